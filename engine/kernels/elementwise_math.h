// Per-element math shared by the CPU and CUDA backends (docs/design.md, "The backend seam"): the CPU tests
// check exactly the code the GPU runs. Plain functions of floats, no state, no std::.
#pragma once
#include <math.h>

#include "engine/backend.h"
#include "engine/kernels/host_device.h"

namespace focal::math {

// sigmoid without overflow: e^-|x| is always in (0, 1].
FOCAL_HD float sigmoid(float x) {
    float z = expf(-fabsf(x));
    return x >= 0 ? 1.0f / (1.0f + z) : z / (1.0f + z);
}

// softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow for large x, and
// exact (no 1 + tiny rounding) for very negative x.
FOCAL_HD float softplus(float x) { return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x))); }

// log(sigmoid(x)) = -softplus(-x): never log(0), exact at x = +-100.
FOCAL_HD float log_sigmoid(float x) { return fminf(x, 0.0f) - log1pf(expf(-fabsf(x))); }

FOCAL_HD float unary(UnaryOp op, UnaryParams p, float x) {
    switch (op) {
        case UnaryOp::Neg: return -x;
        case UnaryOp::Exp: return expf(x);
        case UnaryOp::Log: return logf(x);
        case UnaryOp::Sqrt: return sqrtf(x);
        case UnaryOp::Abs: return fabsf(x);
        case UnaryOp::Sign: return x > 0 ? 1.0f : (x < 0 ? -1.0f : 0.0f);
        case UnaryOp::Relu: return x > 0 ? x : 0.0f;
        case UnaryOp::Step: return x > 0 ? 1.0f : 0.0f;
        case UnaryOp::Sigmoid: return sigmoid(x);
        case UnaryOp::Tanh: return tanhf(x);
        case UnaryOp::Softplus: return softplus(x);
        case UnaryOp::LogSigmoid: return log_sigmoid(x);
        case UnaryOp::AddScalar: return x + p.a;
        case UnaryOp::MulScalar: return x * p.a;
        case UnaryOp::RSubScalar: return p.a - x;
        case UnaryOp::Pow: return p.a == 2.0f ? x * x : powf(x, p.a);
        case UnaryOp::Clamp: return fminf(fmaxf(x, p.a), p.b);
        case UnaryOp::InRange: return (x >= p.a && x <= p.b) ? 1.0f : 0.0f;
    }
    return 0.0f;
}

FOCAL_HD float binary(BinaryOp op, float a, float b) {
    switch (op) {
        case BinaryOp::Add: return a + b;
        case BinaryOp::Sub: return a - b;
        case BinaryOp::Mul: return a * b;
        case BinaryOp::Div: return a / b;
        case BinaryOp::Maximum: return a > b ? a : b;
        case BinaryOp::Minimum: return a < b ? a : b;
        case BinaryOp::Eq: return a == b ? 1.0f : 0.0f;
        case BinaryOp::Ne: return a != b ? 1.0f : 0.0f;
        case BinaryOp::Lt: return a < b ? 1.0f : 0.0f;
        case BinaryOp::Le: return a <= b ? 1.0f : 0.0f;
        case BinaryOp::Gt: return a > b ? 1.0f : 0.0f;
        case BinaryOp::Ge: return a >= b ? 1.0f : 0.0f;
    }
    return 0.0f;
}

}  // namespace focal::math
