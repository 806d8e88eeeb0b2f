// Anti-aliased drawing for the synthetic dataset. Shapes are signed distance functions
// (negative inside, in pixels); a pixel's coverage is clamp(0.5 - d, 0, 1) at its centre,
// a one-pixel-wide ramp that looks like 4x supersampling for a fraction of the cost.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>

#include "data/box.h"
#include "data/image.h"
#include "data/transforms.h"

namespace focal::data {

struct Point {
    float x = 0, y = 0;
};

// Signed distance to a simple polygon (convex or not), by nearest edge and crossing parity.
float polygon_distance(const std::vector<Point>& poly, float x, float y);

// Regular n-gon / n-pointed star (inner radius ratio `inner`) around (cx, cy), circumradius r,
// first vertex at angle `turn` (radians, 0 = up).
std::vector<Point> regular_polygon(float cx, float cy, float r, int n, float turn);
std::vector<Point> star_polygon(float cx, float cy, float r, int points, float inner, float turn);
// A plus sign whose arms are `arm` (fraction of r) thick, rotated by `turn`.
std::vector<Point> cross_polygon(float cx, float cy, float r, float arm, float turn);
// A w x h rectangle centred on (cx, cy), rotated by `turn`.
std::vector<Point> rectangle_polygon(float cx, float cy, float w, float h, float turn);

// The tight box of a point set.
Box bounds(const std::vector<Point>& points);

// Paints colour * shade over `image` where `distance(x, y)` < 0.5, inside `area`.
// shade(x, y) lets a fill carry a gradient (1 = flat).
template <class Distance, class Shade>
void paint(Image& image, const Box& area, Distance distance, Rgb colour, Shade shade) {
    const int xa = std::max(0, int(std::floor(area.x1)) - 1);
    const int ya = std::max(0, int(std::floor(area.y1)) - 1);
    const int xb = std::min(image.width, int(std::ceil(area.x2)) + 1);
    const int yb = std::min(image.height, int(std::ceil(area.y2)) + 1);
    for (int y = ya; y < yb; ++y)
        for (int x = xa; x < xb; ++x) {
            const float px = x + 0.5f, py = y + 0.5f;
            const float cover = std::clamp(0.5f - distance(px, py), 0.0f, 1.0f);
            if (cover <= 0) continue;
            const float s = shade(px, py);
            std::uint8_t* p = image.at(x, y);
            for (int c = 0; c < 3; ++c) {
                const float target = std::clamp(colour[c] * s, 0.0f, 255.0f);
                p[c] = std::uint8_t(p[c] + (target - p[c]) * cover + 0.5f);
            }
        }
}

template <class Distance>
void paint(Image& image, const Box& area, Distance distance, Rgb colour) {
    paint(image, area, distance, colour, [](float, float) { return 1.0f; });
}

// Fills `image` with a cluttered texture: a gradient, two octaves of value noise, stripes
// now and then, and scattered strokes and specks of random colours.
void paint_background(Image& image, Rng& rng);

// A random colour, saturated or not, bright or dark.
Rgb random_colour(Rng& rng);

}  // namespace focal::data
