"""Starting and containing students' kernels: nothing outside this package knows how.

command      the argv of the chain (cgroup, prlimit, bwrap, setpriv)
probe        whether the sandbox works here; what --sandbox makes of it
uids, procfs unprivileged uids; processes as /proc shows them, and killing them
cgroup       a memory cgroup per sandbox (what a kernel really holds)
watch        a thread that counts a sandbox's processes and the kernel's use
forkclient   the grader's side of a student's warm fork server
sandbox      StudentSandbox: one student's kernels, one after another
provisioner  the jupyter_client kernel provisioner that starts kernels in it
manager      the kernel manager and client the executor uses
channels     a shell channel that cannot miss a reply (nbclient #312)
"""
