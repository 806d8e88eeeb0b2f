#include "data/raster.h"

#include <numbers>

namespace focal::data {

float polygon_distance(const std::vector<Point>& poly, float x, float y) {
    float best = 1e30f;
    bool inside = false;
    for (std::size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
        const Point a = poly[j], b = poly[i];
        const float ex = b.x - a.x, ey = b.y - a.y, wx = x - a.x, wy = y - a.y;
        const float t = std::clamp((wx * ex + wy * ey) / std::max(ex * ex + ey * ey, 1e-12f), 0.0f, 1.0f);
        const float dx = wx - ex * t, dy = wy - ey * t;
        best = std::min(best, dx * dx + dy * dy);
        if ((a.y > y) != (b.y > y) && x < a.x + (y - a.y) * ex / ey) inside = !inside;
    }
    return inside ? -std::sqrt(best) : std::sqrt(best);
}

std::vector<Point> regular_polygon(float cx, float cy, float r, int n, float turn) {
    std::vector<Point> points;
    for (int k = 0; k < n; ++k) {
        const double a = turn + 2 * std::numbers::pi * k / n;
        points.push_back({cx + r * float(std::sin(a)), cy - r * float(std::cos(a))});
    }
    return points;
}

std::vector<Point> star_polygon(float cx, float cy, float r, int n, float inner, float turn) {
    std::vector<Point> points;
    for (int k = 0; k < 2 * n; ++k) {
        const double a = turn + std::numbers::pi * k / n;
        const float radius = k % 2 ? r * inner : r;
        points.push_back({cx + radius * float(std::sin(a)), cy - radius * float(std::cos(a))});
    }
    return points;
}

namespace {

std::vector<Point> rotated(std::vector<Point> points, float cx, float cy, float turn) {
    const float c = std::cos(turn), s = std::sin(turn);
    for (Point& p : points) p = {cx + p.x * c - p.y * s, cy + p.x * s + p.y * c};
    return points;
}

}  // namespace

std::vector<Point> cross_polygon(float cx, float cy, float r, float arm, float turn) {
    const float a = r * arm / 2;  // half the arm thickness
    const std::vector<Point> plus = {{-a, -r}, {a, -r}, {a, -a}, {r, -a}, {r, a},   {a, a},
                                     {a, r},   {-a, r}, {-a, a}, {-r, a}, {-r, -a}, {-a, -a}};
    return rotated(plus, cx, cy, turn);
}

std::vector<Point> rectangle_polygon(float cx, float cy, float w, float h, float turn) {
    const float a = w / 2, b = h / 2;
    return rotated({{-a, -b}, {a, -b}, {a, b}, {-a, b}}, cx, cy, turn);
}

Box bounds(const std::vector<Point>& points) {
    Box b{1e30f, 1e30f, -1e30f, -1e30f};
    for (const Point& p : points)
        b = {std::min(b.x1, p.x), std::min(b.y1, p.y), std::max(b.x2, p.x), std::max(b.y2, p.y)};
    return b;
}

Rgb random_colour(Rng& rng) {
    // HSV -> RGB, with a third of the colours nearly grey so hue alone never gives a class away.
    const double h = rng.uniform(0, 6);
    const double s = rng.chance(0.3) ? rng.uniform(0, 0.3) : rng.uniform(0.4, 1);
    const double v = rng.uniform(0.25, 1);
    const double c = v * s, x = c * (1 - std::fabs(std::fmod(h, 2.0) - 1)), m = v - c;
    double rgb[3] = {0, 0, 0};
    const int sector = std::min(5, int(h));
    // Per sector of the hue circle: the channel that gets c, and the one that gets x.
    const int lead[6][2] = {{0, 1}, {1, 0}, {1, 2}, {2, 1}, {2, 0}, {0, 2}};
    rgb[lead[sector][0]] = c;
    rgb[lead[sector][1]] = x;
    return {std::uint8_t((rgb[0] + m) * 255 + 0.5), std::uint8_t((rgb[1] + m) * 255 + 0.5),
            std::uint8_t((rgb[2] + m) * 255 + 0.5)};
}

namespace {

// Value noise: random values on a lattice of `cell` px, smoothstep-interpolated.
class ValueNoise {
public:
    ValueNoise(Rng& rng, int width, int height, float cell)
        : cell_(cell), gw_(int(width / cell) + 2), gh_(int(height / cell) + 2), values_(std::size_t(gw_) * gh_) {
        for (float& v : values_) v = float(rng.uniform());
    }
    float at(float x, float y) const {
        const float gx = x / cell_, gy = y / cell_;
        const int ix = std::min(int(gx), gw_ - 2), iy = std::min(int(gy), gh_ - 2);
        const float fx = smooth(gx - ix), fy = smooth(gy - iy);
        const float top = lerp(value(ix, iy), value(ix + 1, iy), fx);
        const float bottom = lerp(value(ix, iy + 1), value(ix + 1, iy + 1), fx);
        return lerp(top, bottom, fy);
    }

private:
    static float smooth(float t) { return t * t * (3 - 2 * t); }
    static float lerp(float a, float b, float t) { return a + (b - a) * t; }
    float value(int x, int y) const { return values_[std::size_t(y) * gw_ + x]; }
    float cell_;
    int gw_, gh_;
    std::vector<float> values_;
};

}  // namespace

void paint_background(Image& im, Rng& rng) {
    const int w = im.width, h = im.height, side = std::max(w, h);
    const Rgb a = random_colour(rng), b = random_colour(rng);
    const ValueNoise coarse(rng, w, h, float(rng.uniform(0.25, 0.5) * side));
    const ValueNoise fine(rng, w, h, float(rng.uniform(0.05, 0.12) * side));
    const float grain = float(rng.uniform(10, 45));
    const bool stripes = rng.chance(0.3);
    const double angle = rng.uniform(0, std::numbers::pi), period = rng.uniform(4, 16);
    const float ux = float(std::cos(angle) * 2 * std::numbers::pi / period);
    const float uy = float(std::sin(angle) * 2 * std::numbers::pi / period);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            const float t = coarse.at(float(x), float(y));
            float shade = (fine.at(float(x), float(y)) - 0.5f) * grain;
            if (stripes) shade += 18 * std::sin(ux * x + uy * y);
            std::uint8_t* p = im.at(x, y);
            for (int c = 0; c < 3; ++c) p[c] = std::uint8_t(std::clamp(a[c] + (b[c] - a[c]) * t + shade, 0.0f, 255.0f));
        }
    // Clutter: strokes (capsules) and specks, each a random colour.
    const int strokes = rng.uniform_int(2, 8), specks = rng.uniform_int(5, 30);
    for (int i = 0; i < strokes + specks; ++i) {
        const bool speck = i >= strokes;
        const Point p{float(rng.uniform(0, w)), float(rng.uniform(0, h))};
        const float length = speck ? 0.0f : float(rng.uniform(0.1, 0.6) * side);
        const double dir = rng.uniform(0, 2 * std::numbers::pi);
        const Point q{p.x + length * float(std::cos(dir)), p.y + length * float(std::sin(dir))};
        const float half = speck ? float(rng.uniform(0.6, 1.8)) : float(rng.uniform(0.4, 1.2));
        const Box area{std::min(p.x, q.x) - half, std::min(p.y, q.y) - half, std::max(p.x, q.x) + half,
                       std::max(p.y, q.y) + half};
        const auto capsule = [&](float x, float y) {
            const float ex = q.x - p.x, ey = q.y - p.y, wx = x - p.x, wy = y - p.y;
            const float t = std::clamp((wx * ex + wy * ey) / std::max(ex * ex + ey * ey, 1e-12f), 0.0f, 1.0f);
            return std::hypot(wx - ex * t, wy - ey * t) - half;
        };
        paint(im, area, capsule, random_colour(rng));
    }
}

}  // namespace focal::data
