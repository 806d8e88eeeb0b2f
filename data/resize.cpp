// Separable triangle-filter resampling (see resize() in image.h): a horizontal pass into a
// float buffer, then a vertical pass, each with per-output-pixel taps computed once.
#include <algorithm>
#include <cmath>

#include "data/image.h"
#include "engine/error.h"

namespace focal::data {
namespace {

// For each output pixel along one axis: the first input index and the weights that follow.
struct Taps {
    int width = 0;               // taps per output pixel (padded with zero weights)
    std::vector<int> first;      // (out)
    std::vector<float> weights;  // (out, width)
};

Taps make_taps(int in, int out) {
    const double scale = double(out) / in;
    const double support = scale < 1 ? 1 / scale : 1;  // triangle radius, in input pixels
    Taps t;
    t.width = std::min(in, int(std::ceil(2 * support)) + 1);
    t.first.resize(std::size_t(out));
    t.weights.assign(std::size_t(out) * t.width, 0.0f);
    for (int o = 0; o < out; ++o) {
        const double centre = (o + 0.5) / scale - 0.5;  // in input pixel indices
        const int lo = int(std::floor(centre - support)) + 1;
        // Edge clamp: indices beyond the image add their weight to the border pixel.
        const int first = std::clamp(lo, 0, std::max(0, in - t.width));
        t.first[std::size_t(o)] = first;
        float* w = &t.weights[std::size_t(o) * t.width];
        double total = 0;
        for (int i = lo; i < lo + int(std::ceil(2 * support)) + 1; ++i) {
            const double weight = std::max(0.0, 1 - std::fabs(i - centre) / support);
            if (weight <= 0) continue;
            const int k = std::clamp(i, 0, in - 1) - first;
            if (k < 0 || k >= t.width) continue;  // cannot happen; keeps the write in bounds
            w[k] += float(weight);
            total += weight;
        }
        for (int k = 0; k < t.width; ++k) w[k] = float(w[k] / total);
    }
    return t;
}

}  // namespace

Image resize(const Image& image, int w, int h) {
    check(!image.empty() && w > 0 && h > 0, "[image] resize: ", image.width, "x", image.height, " to ", w, "x", h);
    if (w == image.width && h == image.height) return image;
    const int c = image.channels, in_w = image.width, in_h = image.height;
    const Taps tx = make_taps(in_w, w), ty = make_taps(in_h, h);

    // Horizontal: (in_h, in_w, c) bytes -> (in_h, w, c) floats. RGB gets its own loop with
    // three accumulators: the general one is twice slower.
    std::vector<float> rows(std::size_t(in_h) * w * c), line(std::size_t(in_w) * c);
    for (int y = 0; y < in_h; ++y) {
        const std::uint8_t* src = &image.pixels[std::size_t(y) * in_w * c];
        for (std::size_t i = 0; i < line.size(); ++i) line[i] = src[i];
        float* dst = &rows[std::size_t(y) * w * c];
        for (int x = 0; x < w; ++x) {
            const float* wt = &tx.weights[std::size_t(x) * tx.width];
            const float* p = &line[std::size_t(tx.first[std::size_t(x)]) * c];
            if (c == 3) {
                float r = 0, g = 0, b = 0;
                for (int k = 0; k < tx.width; ++k, p += 3) {
                    r += wt[k] * p[0];
                    g += wt[k] * p[1];
                    b += wt[k] * p[2];
                }
                dst[3 * x] = r, dst[3 * x + 1] = g, dst[3 * x + 2] = b;
                continue;
            }
            for (int ch = 0; ch < c; ++ch) {
                float sum = 0;
                for (int k = 0; k < tx.width; ++k) sum += wt[k] * p[k * c + ch];
                dst[x * c + ch] = sum;
            }
        }
    }
    // Vertical: (in_h, w, c) floats -> (h, w, c) bytes, rounded.
    Image out(w, h, c);
    const std::size_t row = std::size_t(w) * c;
    std::vector<float> acc(row);
    for (int y = 0; y < h; ++y) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        const float* wt = &ty.weights[std::size_t(y) * ty.width];
        for (int k = 0; k < ty.width; ++k) {
            if (wt[k] == 0) continue;
            const float* src = &rows[std::size_t(ty.first[std::size_t(y)] + k) * row];
            for (std::size_t i = 0; i < row; ++i) acc[i] += wt[k] * src[i];
        }
        std::uint8_t* dst = &out.pixels[std::size_t(y) * row];
        for (std::size_t i = 0; i < row; ++i) dst[i] = std::uint8_t(std::clamp(acc[i] + 0.5f, 0.0f, 255.0f));
    }
    return out;
}

}  // namespace focal::data
