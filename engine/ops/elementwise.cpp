// Element-wise ops and their gradients. Math lives in kernels/elementwise_math.h.
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::backend_of;
using detail::broadcast_view;
using detail::check_f32;
using detail::view_of;

namespace {

Tensor unary_forward(UnaryOp op, const Tensor& x, const char* name, UnaryParams p = {}) {
    OpScope scope(name);
    check_f32(x, name);
    Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
    backend_of(x).unary(op, p, view_of(x), view_of(y));
    return y;
}

Tensor binary_forward(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
    OpScope scope(name);
    check_f32(a, name);
    check_f32(b, name);
    detail::check_same_device(a, b, name);
    Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
    Tensor y = Tensor::empty(shape, DType::F32, a.device());
    backend_of(a).binary(op, broadcast_view(a, shape), broadcast_view(b, shape), view_of(y));
    return y;
}

}  // namespace

// ---------------------------------------------------------------- unary

Tensor neg(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Neg, x, "neg");
    return record(y, "neg", {x}, [](Grads& g, const Tensor& dy) { g[0] += neg(dy); });
}

Tensor exp(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Exp, x, "exp");
    return record(y, "exp", {x}, [y = y.detached()](Grads& g, const Tensor& dy) {
        g[0] += dy * y;  // d e^x = e^x
    });
}

Tensor log(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Log, x, "log");
    return record(y, "log", {x}, [x = x.detached()](Grads& g, const Tensor& dy) { g[0] += dy / x; });
}

Tensor sqrt(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Sqrt, x, "sqrt");
    return record(y, "sqrt", {x}, [y = y.detached()](Grads& g, const Tensor& dy) {
        g[0] += dy * 0.5f / y;  // d sqrt(x) = 1 / (2 sqrt(x))
    });
}

Tensor abs(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Abs, x, "abs");
    return record(y, "abs", {x}, [x = x.detached()](Grads& g, const Tensor& dy) {
        g[0] += dy * sign(x);  // 0 at x = 0, as in PyTorch
    });
}

Tensor sign(const Tensor& x) { return unary_forward(UnaryOp::Sign, x, "sign"); }

Tensor pow(const Tensor& x, float exponent) {
    Tensor y = unary_forward(UnaryOp::Pow, x, "pow", {exponent, 0});
    return record(y, "pow", {x}, [x = x.detached(), exponent](Grads& g, const Tensor& dy) {
        g[0] += dy * (exponent * pow(x, exponent - 1));  // d x^p = p x^(p-1)
    });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
    FOCAL_CHECK(!(lo > hi), "[clamp] lo ", lo, " is greater than hi ", hi);
    Tensor y = unary_forward(UnaryOp::Clamp, x, "clamp", {lo, hi});
    return record(y, "clamp", {x}, [x = x.detached(), lo, hi](Grads& g, const Tensor& dy) {
        // gradient passes where lo <= x <= hi (the bounds included, as in PyTorch)
        g[0] += dy * unary_forward(UnaryOp::InRange, x, "clamp", {lo, hi});
    });
}

Tensor relu(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Relu, x, "relu");
    return record(y, "relu", {x}, [x = x.detached()](Grads& g, const Tensor& dy) {
        g[0] += dy * unary_forward(UnaryOp::Step, x, "relu");  // 1 where x > 0
    });
}

Tensor sigmoid(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Sigmoid, x, "sigmoid");  // y = 1 / (1 + e^-x)
    return record(y, "sigmoid", {x}, [x = x.detached(), y = y.detached()](Grads& g, const Tensor& dy) {
        // dσ/dx = σ(x)(1 - σ(x)) = σ(x)σ(-x): the second form keeps its precision where
        // σ(x) rounds to 1 (x > 17 in float32) instead of collapsing to 0.
        g[0] += dy * y * unary_forward(UnaryOp::Sigmoid, neg(x), "sigmoid");
    });
}

Tensor tanh(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Tanh, x, "tanh");
    return record(y, "tanh", {x}, [y = y.detached()](Grads& g, const Tensor& dy) { g[0] += dy * (1.0f - y * y); });
}

Tensor softplus(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::Softplus, x, "softplus");  // log(1 + e^x)
    return record(y, "softplus", {x}, [x = x.detached()](Grads& g, const Tensor& dy) {
        g[0] += dy * unary_forward(UnaryOp::Sigmoid, x, "softplus");  // d softplus = σ(x)
    });
}

Tensor log_sigmoid(const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::LogSigmoid, x, "log_sigmoid");  // -softplus(-x)
    return record(y, "log_sigmoid", {x}, [x = x.detached()](Grads& g, const Tensor& dy) {
        // d log σ(x) = 1 - σ(x) = σ(-x): computed as σ(-x), exact where σ(x) rounds to 1
        g[0] += dy * unary_forward(UnaryOp::Sigmoid, neg(x), "log_sigmoid");
    });
}

Tensor add_scalar(const Tensor& x, float s) {
    Tensor y = unary_forward(UnaryOp::AddScalar, x, "add", {s, 0});
    return record(y, "add_scalar", {x}, [](Grads& g, const Tensor& dy) { g[0] += dy; });
}

Tensor mul_scalar(const Tensor& x, float s) {
    Tensor y = unary_forward(UnaryOp::MulScalar, x, "mul", {s, 0});
    return record(y, "mul_scalar", {x}, [s](Grads& g, const Tensor& dy) { g[0] += dy * s; });
}

Tensor rsub_scalar(float s, const Tensor& x) {
    Tensor y = unary_forward(UnaryOp::RSubScalar, x, "sub", {s, 0});
    return record(y, "rsub_scalar", {x}, [](Grads& g, const Tensor& dy) { g[0] += neg(dy); });
}

// ---------------------------------------------------------------- binary

Tensor add(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Add, a, b, "add");
    return record(y, "add", {a, b}, [](Grads& g, const Tensor& dy) {
        g[0] += dy;  // summed down to each input's shape when it was broadcast
        g[1] += dy;
    });
}

Tensor sub(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Sub, a, b, "sub");
    return record(y, "sub", {a, b}, [](Grads& g, const Tensor& dy) {
        g[0] += dy;
        if (g.needs(1)) g[1] += neg(dy);
    });
}

Tensor mul(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Mul, a, b, "mul");
    return record(y, "mul", {a, b}, [a = a.detached(), b = b.detached()](Grads& g, const Tensor& dy) {
        if (g.needs(0)) g[0] += dy * b;
        if (g.needs(1)) g[1] += dy * a;
    });
}

Tensor div(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Div, a, b, "div");
    return record(y, "div", {a, b}, [y = y.detached(), b = b.detached()](Grads& g, const Tensor& dy) {
        Tensor dy_over_b = dy / b;
        g[0] += dy_over_b;
        if (g.needs(1)) g[1] += neg(dy_over_b * y);  // d(a/b)/db = -a/b^2 = -y/b
    });
}

namespace {
// Gradient share of `a` in max/min(a, b): 1 where a wins, 1/2 at ties, 0 where b wins.
Tensor winner_share(BinaryOp wins, const Tensor& a, const Tensor& b) {
    Tensor strict = binary_forward(wins, a, b, "maximum");
    Tensor tie = binary_forward(BinaryOp::Eq, a, b, "maximum");
    return strict + 0.5f * tie;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Maximum, a, b, "maximum");
    return record(y, "maximum", {a, b}, [a = a.detached(), b = b.detached()](Grads& g, const Tensor& dy) {
        if (g.needs(0)) g[0] += dy * winner_share(BinaryOp::Gt, a, b);
        if (g.needs(1)) g[1] += dy * winner_share(BinaryOp::Gt, b, a);
    });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
    Tensor y = binary_forward(BinaryOp::Minimum, a, b, "minimum");
    return record(y, "minimum", {a, b}, [a = a.detached(), b = b.detached()](Grads& g, const Tensor& dy) {
        if (g.needs(0)) g[0] += dy * winner_share(BinaryOp::Lt, a, b);
        if (g.needs(1)) g[1] += dy * winner_share(BinaryOp::Lt, b, a);
    });
}

Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b) {
    check_f32(mask, "where");
    check_f32(a, "where");
    check_f32(b, "where");
    detail::check_same_device(a, b, "where");
    detail::check_same_device(mask, a, "where");
    Shape shape = broadcast_shapes(broadcast_shapes(mask.shape(), a.shape(), "where"), b.shape(), "where");
    Tensor y = Tensor::empty(shape, DType::F32, a.device());
    backend_of(a).where(broadcast_view(mask, shape), broadcast_view(a, shape), broadcast_view(b, shape), view_of(y));
    return record(y, "where", {mask, a, b}, [mask = mask.detached()](Grads& g, const Tensor& dy) {
        Tensor zero = Tensor::zeros({}, DType::F32, dy.device());
        if (g.needs(1)) g[1] += where(mask, dy, zero);
        if (g.needs(2)) g[2] += where(mask, zero, dy);
    });
}

// ---------------------------------------------------------------- comparisons

Tensor eq(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_forward(BinaryOp::Ge, a, b, "ge"); }
Tensor gt(const Tensor& a, float s) { return gt(a, Tensor::scalar(s, a.device())); }
Tensor lt(const Tensor& a, float s) { return lt(a, Tensor::scalar(s, a.device())); }

// ---------------------------------------------------------------- operators

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, float s) { return add_scalar(a, s); }
Tensor operator+(float s, const Tensor& a) { return add_scalar(a, s); }
Tensor operator-(const Tensor& a, float s) { return add_scalar(a, -s); }
Tensor operator-(float s, const Tensor& a) { return rsub_scalar(s, a); }
Tensor operator*(const Tensor& a, float s) { return mul_scalar(a, s); }
Tensor operator*(float s, const Tensor& a) { return mul_scalar(a, s); }
Tensor operator/(const Tensor& a, float s) { return mul_scalar(a, 1.0f / s); }

}  // namespace focal
