// Anti-aliased drawing for the synthetic dataset. Shapes are signed distance functions
// (negative inside, in pixels). A pixel's coverage is the share of its 4x4 sub-samples that
// fall inside; the distance at its centre settles the pixels that lie wholly in or out
// (|d| >= 0.75 > the half-diagonal), so only the edge band is supersampled.
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

// Paints colour * shade over `image` where `distance(x, y)` < 0, inside `area`;
// shade(x, y) lets a fill carry a gradient (1 = flat). Returns the box of the pixels it
// touched (any coverage), empty if none.
template <class Distance, class Shade>
Box paint(Image& image, const Box& area, Distance distance, Rgb colour, Shade shade) {
    Box covered{1e30f, 1e30f, -1e30f, -1e30f};
    const int xa = std::max(0, int(std::floor(area.x1)) - 1);
    const int ya = std::max(0, int(std::floor(area.y1)) - 1);
    const int xb = std::min(image.width, int(std::ceil(area.x2)) + 1);
    const int yb = std::min(image.height, int(std::ceil(area.y2)) + 1);
    for (int y = ya; y < yb; ++y)
        for (int x = xa; x < xb; ++x) {
            const float px = x + 0.5f, py = y + 0.5f;
            const float d = distance(px, py);
            if (d >= 0.75f) continue;
            float cover = 1;
            if (d > -0.75f) {
                int hits = 0;
                for (int j = 0; j < 4; ++j)
                    for (int i = 0; i < 4; ++i) hits += distance(x + (i + 0.5f) / 4, y + (j + 0.5f) / 4) < 0;
                if (hits == 0) continue;
                cover = float(hits) / 16;
            }
            covered = {std::min(covered.x1, float(x)), std::min(covered.y1, float(y)),
                       std::max(covered.x2, float(x + 1)), std::max(covered.y2, float(y + 1))};
            const float s = shade(px, py);
            std::uint8_t* p = image.at(x, y);
            for (int c = 0; c < 3; ++c) {
                const float target = std::clamp(colour[c] * s, 0.0f, 255.0f);
                p[c] = std::uint8_t(p[c] + (target - p[c]) * cover + 0.5f);
            }
        }
    return covered.valid() ? covered : Box{};
}

template <class Distance>
Box paint(Image& image, const Box& area, Distance distance, Rgb colour) {
    return paint(image, area, distance, colour, [](float, float) { return 1.0f; });
}

// Fills `image` with a cluttered texture: a gradient, two octaves of value noise, stripes
// now and then, and scattered strokes and specks of random colours.
void paint_background(Image& image, Rng& rng);

// A random colour, saturated or not, bright or dark.
Rgb random_colour(Rng& rng);

}  // namespace focal::data
