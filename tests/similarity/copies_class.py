"""A class with known copies: eight students who wrote forward_propagation (02) and
backward_propagation (03) each in their own way, and six who copied one of them
under a disguise (each disguise alone, then all of them at once). Everyone wrote
the same sigmoid (01), `1 / (1 + np.exp(-z))`, as everyone does.

Answer code only, as the grader reads it from a notebook's answer cells: the
signature and docstring the template gives are left out here (they are the
course's own code, subtracted anyway).
"""

from __future__ import annotations

from grader.course import NOTEBOOKS

SIG, FWD, BWD = NOTEBOOKS[:3]

SIGMOID = """\
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_derivative(z):
    return sigmoid(z) * (1 - sigmoid(z))
"""

# --- eight students, each their own way ---------------------------------------------

FORWARD = {
    "ada": """\
def forward_propagation(x, y, w):
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = w
    x1, x2, x3, x4, x5 = x
    inner = (w1 * x1 + w2 * x2) ** 2 + w6
    e = np.exp(inner)
    t = np.tanh(e + w7)
    s = sigmoid(np.sin(w3 * x3) * (w4 * x4 + w5 * x5) + w8)
    prediction = t + s * w9
    error = y - prediction
    return {"exp": e, "tanh": t, "sigmoid": s, "loss": error ** 2,
            "dy_pred": -2 * error}
""",
    "bo": """\
def forward_propagation(x, y, w):
    lin_a = np.dot(w[:2], x[:2])
    lin_c = np.dot(w[3:5], x[3:5])
    e = np.exp(lin_a * lin_a + w[5])
    th = np.tanh(e + w[6])
    sg = sigmoid(np.sin(w[2] * x[2]) * lin_c + w[7])
    out = th + w[8] * sg
    return dict(exp=e, tanh=th, sigmoid=sg, loss=np.square(y - out),
                dy_pred=2 * (out - y))
""",
    "cy": """\
def forward_propagation(x, y, w):
    total = 0.0
    for i in range(2):
        total += w[i] * x[i]
    second = 0.0
    for j in (3, 4):
        second += w[j] * x[j]
    exponent = math.exp(total ** 2 + w[5])
    hyper = math.tanh(exponent + w[6])
    logistic = sigmoid(math.sin(w[2] * x[2]) * second + w[7])
    y_hat = hyper + logistic * w[8]
    return {"exp": exponent, "tanh": hyper, "sigmoid": logistic,
            "loss": (y - y_hat) * (y - y_hat), "dy_pred": -2.0 * (y - y_hat)}
""",
    "dee": """\
def forward_propagation(x, y, w):
    result = {}
    result["exp"] = np.exp(np.power(w[0] * x[0] + w[1] * x[1], 2) + w[5])
    result["tanh"] = np.tanh(result["exp"] + w[6])
    z = np.sin(w[2] * x[2]) * (w[3] * x[3] + w[4] * x[4]) + w[7]
    result["sigmoid"] = sigmoid(z)
    pred = result["tanh"] + result["sigmoid"] * w[8]
    result["loss"] = pow(y - pred, 2)
    result["dy_pred"] = -2 * (y - pred)
    return result
""",
    "eli": """\
def forward_propagation(x, y, w):
    p = list(map(float, w))
    a, b, c, d, f = map(float, x)
    upper = np.exp((p[0] * a + p[1] * b) ** 2 + p[5])
    upper_t = np.tanh(upper + p[6])
    lower = sigmoid(np.sin(p[2] * c) * (p[3] * d + p[4] * f) + p[7])
    guess = upper_t + lower * p[8]
    diff = guess - y
    return {"exp": upper, "tanh": upper_t, "sigmoid": lower,
            "loss": diff ** 2, "dy_pred": 2 * diff}
""",
    "fay": """\
def forward_propagation(x, y, w):
    def weighted(*pairs):
        return sum(w[i] * x[j] for i, j in pairs)
    h1 = weighted((0, 0), (1, 1))
    h2 = weighted((3, 3), (4, 4))
    ex = np.exp(h1 ** 2 + w[5])
    tn = np.tanh(ex + w[6])
    sm = sigmoid(np.sin(w[2] * x[2]) * h2 + w[7])
    yp = tn + sm * w[8]
    return {"exp": ex, "tanh": tn, "sigmoid": sm, "loss": (y - yp) ** 2,
            "dy_pred": -2 * (y - yp)}
""",
    "gus": """\
def forward_propagation(x, y, w):
    weights = np.array(w, dtype=float)
    inputs = np.array(x, dtype=float)
    products = weights[:5] * inputs
    square = (products[0] + products[1]) ** 2
    exp_value = np.exp(square + weights[5])
    tanh_value = np.tanh(exp_value + weights[6])
    gate = np.sin(products[2]) * (products[3] + products[4])
    sigmoid_value = sigmoid(gate + weights[7])
    y_prime = tanh_value + weights[8] * sigmoid_value
    loss = (y - y_prime) ** 2
    return {"exp": exp_value, "tanh": tanh_value, "sigmoid": sigmoid_value,
            "loss": loss, "dy_pred": -2 * (y - y_prime)}
""",
    "hal": """\
def forward_propagation(x, y, w):
    W = np.asarray(w)
    X = np.asarray(x)
    first_branch = np.exp(np.sum(W[0:2] * X[0:2]) ** 2 + W[5])
    tanh_branch = np.tanh(first_branch + W[6])
    mixed = np.sin(W[2] * X[2]) * np.sum(W[3:5] * X[3:5])
    sig_branch = 1 / (1 + np.exp(-(mixed + W[7])))
    predicted = tanh_branch + sig_branch * W[8]
    residual = y - predicted
    values = {"exp": first_branch, "tanh": tanh_branch, "sigmoid": sig_branch}
    values.update(loss=residual ** 2, dy_pred=-2 * residual)
    return values
""",
}

BACKWARD = {
    "ada": """\
def backward_propagation(x, y, w, forward_dict):
    w1, w2, w3, w4, w5, w6, w7, w8, w9 = w
    x1, x2, x3, x4, x5 = x
    g = forward_dict["dy_pred"]
    t = forward_dict["tanh"]
    s = forward_dict["sigmoid"]
    e = forward_dict["exp"]
    g_tanh = g * (1 - t ** 2)
    g_exp = g_tanh * e
    g_inner = g_exp * 2 * (w1 * x1 + w2 * x2)
    g_sig = g * w9 * s * (1 - s)
    lin = w4 * x4 + w5 * x5
    return {"dw1": g_inner * x1, "dw2": g_inner * x2,
            "dw3": g_sig * lin * np.cos(w3 * x3) * x3,
            "dw4": g_sig * np.sin(w3 * x3) * x4,
            "dw5": g_sig * np.sin(w3 * x3) * x5,
            "dw6": g_exp, "dw7": g_tanh, "dw8": g_sig, "dw9": g * s}
""",
    "bo": """\
def backward_propagation(x, y, w, forward_dict):
    d = forward_dict["dy_pred"]
    th, sg, e = forward_dict["tanh"], forward_dict["sigmoid"], forward_dict["exp"]
    up = d * (1 - th * th)
    grad_a = up * e * 2 * np.dot(w[:2], x[:2])
    low = d * w[8] * sg * (1 - sg)
    sine = np.sin(w[2] * x[2])
    grads = np.zeros(9)
    grads[0:2] = grad_a * np.asarray(x[:2])
    grads[2] = low * np.dot(w[3:5], x[3:5]) * np.cos(w[2] * x[2]) * x[2]
    grads[3:5] = low * sine * np.asarray(x[3:5])
    grads[5], grads[6], grads[7], grads[8] = up * e, up, low, d * sg
    return {f"dw{k + 1}": grads[k] for k in range(9)}
""",
    "cy": """\
def backward_propagation(x, y, w, forward_dict):
    result = {}
    chain = forward_dict["dy_pred"]
    tanh_part = chain * (1.0 - forward_dict["tanh"] * forward_dict["tanh"])
    result["dw7"] = tanh_part
    result["dw6"] = tanh_part * forward_dict["exp"]
    inner = 0.0
    for i in range(2):
        inner += w[i] * x[i]
    for i in range(2):
        result["dw" + str(i + 1)] = result["dw6"] * 2.0 * inner * x[i]
    sig = forward_dict["sigmoid"]
    lower = chain * w[8] * sig * (1.0 - sig)
    result["dw8"] = lower
    result["dw9"] = chain * sig
    lin = 0.0
    for j in (3, 4):
        lin += w[j] * x[j]
    result["dw3"] = lower * lin * math.cos(w[2] * x[2]) * x[2]
    for j in (3, 4):
        result["dw" + str(j + 1)] = lower * math.sin(w[2] * x[2]) * x[j]
    return result
""",
    "dee": """\
def backward_propagation(x, y, w, forward_dict):
    out = {}
    dpred = forward_dict["dy_pred"]
    out["dw9"] = dpred * forward_dict["sigmoid"]
    dt = dpred * (1 - np.power(forward_dict["tanh"], 2))
    out["dw7"] = dt
    out["dw6"] = dt * forward_dict["exp"]
    de = out["dw6"] * 2 * (w[0] * x[0] + w[1] * x[1])
    out["dw1"] = de * x[0]
    out["dw2"] = de * x[1]
    ds = dpred * w[8] * forward_dict["sigmoid"] * (1 - forward_dict["sigmoid"])
    out["dw8"] = ds
    out["dw3"] = ds * (w[3] * x[3] + w[4] * x[4]) * np.cos(w[2] * x[2]) * x[2]
    out["dw4"] = ds * np.sin(w[2] * x[2]) * x[3]
    out["dw5"] = ds * np.sin(w[2] * x[2]) * x[4]
    return out
""",
    "eli": """\
def backward_propagation(x, y, w, forward_dict):
    p = list(map(float, w))
    a, b, c, d, f = map(float, x)
    diff = forward_dict["dy_pred"]
    upper = forward_dict["exp"]
    upper_t = forward_dict["tanh"]
    lower = forward_dict["sigmoid"]
    k7 = diff * (1 - upper_t ** 2)
    k6 = k7 * upper
    k_ab = 2 * k6 * (p[0] * a + p[1] * b)
    k8 = diff * p[8] * lower * (1 - lower)
    sc, cc = np.sin(p[2] * c), np.cos(p[2] * c)
    mid = p[3] * d + p[4] * f
    keys = ["dw1", "dw2", "dw3", "dw4", "dw5", "dw6", "dw7", "dw8", "dw9"]
    values = [k_ab * a, k_ab * b, k8 * mid * cc * c, k8 * sc * d, k8 * sc * f,
              k6, k7, k8, diff * lower]
    return dict(zip(keys, values))
""",
    "fay": """\
def backward_propagation(x, y, w, forward_dict):
    def weighted(*pairs):
        return sum(w[i] * x[j] for i, j in pairs)
    dl = forward_dict["dy_pred"]
    sm = forward_dict["sigmoid"]
    g7 = dl * (1 - forward_dict["tanh"] ** 2)
    g6 = g7 * forward_dict["exp"]
    gh = g6 * 2 * weighted((0, 0), (1, 1))
    g8 = dl * w[8] * sm * (1 - sm)
    angle = w[2] * x[2]
    grads = {"dw6": g6, "dw7": g7, "dw8": g8, "dw9": dl * sm}
    grads["dw1"], grads["dw2"] = gh * x[0], gh * x[1]
    grads["dw3"] = g8 * weighted((3, 3), (4, 4)) * np.cos(angle) * x[2]
    grads["dw4"], grads["dw5"] = g8 * np.sin(angle) * x[3], g8 * np.sin(angle) * x[4]
    return grads
""",
    "gus": """\
def backward_propagation(x, y, w, forward_dict):
    weights = np.array(w, dtype=float)
    inputs = np.array(x, dtype=float)
    products = weights[:5] * inputs
    upstream = forward_dict["dy_pred"]
    d_tanh = upstream * (1 - forward_dict["tanh"] ** 2)
    d_exp = d_tanh * forward_dict["exp"]
    d_square = d_exp * 2 * (products[0] + products[1])
    sigmoid_value = forward_dict["sigmoid"]
    d_gate = upstream * weights[8] * sigmoid_value * (1 - sigmoid_value)
    gradient = np.empty(9)
    gradient[:2] = d_square * inputs[:2]
    gradient[2] = d_gate * (products[3] + products[4]) * np.cos(products[2]) * inputs[2]
    gradient[3:5] = d_gate * np.sin(products[2]) * inputs[3:5]
    gradient[5:] = [d_exp, d_tanh, d_gate, upstream * sigmoid_value]
    return {"dw%d" % (n + 1): value for n, value in enumerate(gradient)}
""",
    "hal": """\
def backward_propagation(x, y, w, forward_dict):
    W = np.asarray(w)
    X = np.asarray(x)
    top = forward_dict["dy_pred"]
    through_tanh = top * (1 - np.tanh(np.arctanh(forward_dict["tanh"])) ** 2)
    through_exp = through_tanh * forward_dict["exp"]
    pre = np.sum(W[0:2] * X[0:2])
    sg = forward_dict["sigmoid"]
    through_sig = top * W[8] * sg * (1 - sg)
    names = [f"dw{n}" for n in range(1, 10)]
    vals = np.concatenate([2 * pre * through_exp * X[0:2],
                           [through_sig * np.sum(W[3:5] * X[3:5])
                            * np.cos(W[2] * X[2]) * X[2]],
                           through_sig * np.sin(W[2] * X[2]) * X[3:5],
                           [through_exp, through_tanh, through_sig, top * sg]])
    return dict(zip(names, vals))
""",
}

# --- six who copied, each under a disguise -----------------------------------------

# Every variable renamed.
RENAMED = {
    FWD: """\
def forward_propagation(x, y, w):
    a1, a2, a3, a4, a5, a6, a7, a8, a9 = w
    f1, f2, f3, f4, f5 = x
    arg = (a1 * f1 + a2 * f2) ** 2 + a6
    big = np.exp(arg)
    hyp = np.tanh(big + a7)
    sq = sigmoid(np.sin(a3 * f3) * (a4 * f4 + a5 * f5) + a8)
    yhat = hyp + sq * a9
    err = y - yhat
    return {"exp": big, "tanh": hyp, "sigmoid": sq, "loss": err ** 2,
            "dy_pred": -2 * err}
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    a1, a2, a3, a4, a5, a6, a7, a8, a9 = w
    f1, f2, f3, f4, f5 = x
    up = forward_dict["dy_pred"]
    hy = forward_dict["tanh"]
    sq = forward_dict["sigmoid"]
    big = forward_dict["exp"]
    up_h = up * (1 - hy ** 2)
    up_b = up_h * big
    up_in = up_b * 2 * (a1 * f1 + a2 * f2)
    up_s = up * a9 * sq * (1 - sq)
    mix = a4 * f4 + a5 * f5
    return {"dw1": up_in * f1, "dw2": up_in * f2,
            "dw3": up_s * mix * np.cos(a3 * f3) * f3,
            "dw4": up_s * np.sin(a3 * f3) * f4,
            "dw5": up_s * np.sin(a3 * f3) * f5,
            "dw6": up_b, "dw7": up_h, "dw8": up_s, "dw9": up * sq}
""",
}

# Independent lines in another order.
REORDERED = {
    FWD: """\
def forward_propagation(x, y, w):
    lin_c = np.dot(w[3:5], x[3:5])
    lin_a = np.dot(w[:2], x[:2])
    e = np.exp(lin_a * lin_a + w[5])
    sg = sigmoid(np.sin(w[2] * x[2]) * lin_c + w[7])
    th = np.tanh(e + w[6])
    out = th + w[8] * sg
    return dict(exp=e, tanh=th, sigmoid=sg, loss=np.square(y - out),
                dy_pred=2 * (out - y))
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    d = forward_dict["dy_pred"]
    th, sg, e = forward_dict["tanh"], forward_dict["sigmoid"], forward_dict["exp"]
    sine = np.sin(w[2] * x[2])
    low = d * w[8] * sg * (1 - sg)
    up = d * (1 - th * th)
    grads = np.zeros(9)
    grads[5], grads[6], grads[7], grads[8] = up * e, up, low, d * sg
    grads[3:5] = low * sine * np.asarray(x[3:5])
    grad_a = up * e * 2 * np.dot(w[:2], x[:2])
    grads[2] = low * np.dot(w[3:5], x[3:5]) * np.cos(w[2] * x[2]) * x[2]
    grads[0:2] = grad_a * np.asarray(x[:2])
    return {f"dw{k + 1}": grads[k] for k in range(9)}
""",
}

# Other literals, other comments.
RELITERALLED = {
    FWD: """\
def forward_propagation(x, y, w):
    # forward pass, step by step
    result = {}
    result["exp"] = np.exp(np.power(w[0] * x[0] + w[1] * x[1], 2.0) + w[5])
    result["tanh"] = np.tanh(result["exp"] + w[6])  # upper branch
    z = np.sin(w[2] * x[2]) * (w[3] * x[3] + w[4] * x[4]) + w[7]
    result['sigmoid'] = sigmoid(z)  # lower branch
    pred = result['tanh'] + result['sigmoid'] * w[8]
    result["loss"] = pow(y - pred, 2.0)
    result["dy_pred"] = -2.0 * (y - pred)  # dL/dy'
    return result
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    out = {}  # the gradients
    dpred = forward_dict['dy_pred']
    out['dw9'] = dpred * forward_dict['sigmoid']
    dt = dpred * (1.0 - np.power(forward_dict['tanh'], 2.0))
    out['dw7'] = dt
    out['dw6'] = dt * forward_dict['exp']
    de = out['dw6'] * 2.0 * (w[0] * x[0] + w[1] * x[1])  # chain rule
    out['dw1'] = de * x[0]
    out['dw2'] = de * x[1]
    ds = dpred * w[8] * forward_dict['sigmoid'] * (1.0 - forward_dict['sigmoid'])
    out['dw8'] = ds
    out['dw3'] = ds * (w[3] * x[3] + w[4] * x[4]) * np.cos(w[2] * x[2]) * x[2]
    out['dw4'] = ds * np.sin(w[2] * x[2]) * x[3]
    out['dw5'] = ds * np.sin(w[2] * x[2]) * x[4]
    return out
""",
}

# Dead code added.
PADDED = {
    FWD: """\
def forward_propagation(x, y, w):
    unused = len(w) + len(x)
    p = list(map(float, w))
    a, b, c, d, f = map(float, x)
    if unused < 0:
        print("never")
    upper = np.exp((p[0] * a + p[1] * b) ** 2 + p[5])
    upper_t = np.tanh(upper + p[6])
    scratch = [q * 0 for q in p]
    lower = sigmoid(np.sin(p[2] * c) * (p[3] * d + p[4] * f) + p[7])
    guess = upper_t + lower * p[8]
    diff = guess - y
    del scratch
    return {"exp": upper, "tanh": upper_t, "sigmoid": lower,
            "loss": diff ** 2, "dy_pred": 2 * diff}
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    p = list(map(float, w))
    a, b, c, d, f = map(float, x)
    checks = sorted(forward_dict)
    diff = forward_dict["dy_pred"]
    upper = forward_dict["exp"]
    upper_t = forward_dict["tanh"]
    lower = forward_dict["sigmoid"]
    while False:
        checks.append(None)
    k7 = diff * (1 - upper_t ** 2)
    k6 = k7 * upper
    k_ab = 2 * k6 * (p[0] * a + p[1] * b)
    k8 = diff * p[8] * lower * (1 - lower)
    total = sum(p) * 0
    sc, cc = np.sin(p[2] * c), np.cos(p[2] * c)
    mid = p[3] * d + p[4] * f
    keys = ["dw1", "dw2", "dw3", "dw4", "dw5", "dw6", "dw7", "dw8", "dw9"]
    values = [k_ab * a, k_ab * b, k8 * mid * cc * c, k8 * sc * d, k8 * sc * f,
              k6, k7, k8, diff * lower]
    return dict(zip(keys, values)) if total == 0 else None
""",
}

# Loops turned into comprehensions.
COMPREHENDED = {
    FWD: """\
def forward_propagation(x, y, w):
    total = sum([w[i] * x[i] for i in range(2)])
    second = sum([w[j] * x[j] for j in (3, 4)])
    exponent = math.exp(total ** 2 + w[5])
    hyper = math.tanh(exponent + w[6])
    logistic = sigmoid(math.sin(w[2] * x[2]) * second + w[7])
    y_hat = hyper + logistic * w[8]
    return {"exp": exponent, "tanh": hyper, "sigmoid": logistic,
            "loss": (y - y_hat) * (y - y_hat), "dy_pred": -2.0 * (y - y_hat)}
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    result = {}
    chain = forward_dict["dy_pred"]
    tanh_part = chain * (1.0 - forward_dict["tanh"] * forward_dict["tanh"])
    result["dw7"] = tanh_part
    result["dw6"] = tanh_part * forward_dict["exp"]
    inner = sum([w[i] * x[i] for i in range(2)])
    result.update({"dw" + str(i + 1): result["dw6"] * 2.0 * inner * x[i]
                   for i in range(2)})
    sig = forward_dict["sigmoid"]
    lower = chain * w[8] * sig * (1.0 - sig)
    result["dw8"] = lower
    result["dw9"] = chain * sig
    lin = sum([w[j] * x[j] for j in (3, 4)])
    result["dw3"] = lower * lin * math.cos(w[2] * x[2]) * x[2]
    result.update({"dw" + str(j + 1): lower * math.sin(w[2] * x[2]) * x[j]
                   for j in (3, 4)})
    return result
""",
}

# All of them at once: renamed, reordered, other literals and comments, dead code,
# loops as comprehensions.
DISGUISED = {
    FWD: """\
def forward_propagation(x, y, w):
    # my own forward pass
    b = sum([w[k] * x[k] for k in (3, 4)])
    a = sum([w[k] * x[k] for k in range(0, 2)])
    debug = False
    ex = math.exp(a ** 2.0 + w[5])
    lg = sigmoid(math.sin(w[2] * x[2]) * b + w[7])  # sigmoid part
    hy = math.tanh(ex + w[6])
    if debug:
        print(ex, hy, lg)
    guess = hy + lg * w[8]
    return {'exp': ex, 'tanh': hy, 'sigmoid': lg,
            'loss': (y - guess) * (y - guess), 'dy_pred': -2 * (y - guess)}
""",
    BWD: """\
def backward_propagation(x, y, w, forward_dict):
    grads = {}
    up = forward_dict['dy_pred']
    sg = forward_dict['sigmoid']
    th_part = up * (1 - forward_dict['tanh'] * forward_dict['tanh'])
    lo = up * w[8] * sg * (1 - sg)  # through the sigmoid
    grads['dw7'] = th_part
    grads['dw6'] = th_part * forward_dict['exp']
    grads['dw9'] = up * sg
    grads['dw8'] = lo
    s1 = sum([w[k] * x[k] for k in range(0, 2)])
    spare = [0] * 9
    grads.update({'dw' + str(k + 1): grads['dw6'] * 2 * s1 * x[k] for k in range(2)})
    s2 = sum([w[k] * x[k] for k in (3, 4)])
    grads['dw3'] = lo * s2 * math.cos(w[2] * x[2]) * x[2]
    grads.update({'dw' + str(k + 1): lo * math.sin(w[2] * x[2]) * x[k]
                  for k in (3, 4)})
    return grads if spare else grads
""",
}

# copier -> (the student copied, the disguise)
COPIES = {
    "ada-renamed": ("ada", RENAMED),
    "bo-reordered": ("bo", REORDERED),
    "dee-reliteralled": ("dee", RELITERALLED),
    "eli-padded": ("eli", PADDED),
    "cy-comprehended": ("cy", COMPREHENDED),
    "cy-disguised": ("cy", DISGUISED),
}


def class_code() -> dict[str, dict[str, str]]:
    """student -> {notebook: answer code} of the whole class."""
    code = {
        student: {SIG: SIGMOID, FWD: FORWARD[student], BWD: BACKWARD[student]}
        for student in FORWARD
    }
    for copier, (_, disguise) in COPIES.items():
        code[copier] = {SIG: SIGMOID, **disguise}
    return code


def family(student: str) -> str:
    """The student whose work this is (a copier's original, or their own)."""
    return COPIES[student][0] if student in COPIES else student


def is_copy(a: str, b: str) -> bool:
    """Whether one of a and b copied the other, or both the same student."""
    return family(a) == family(b)
