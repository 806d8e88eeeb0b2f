// Mosaic and mixup (data/mosaic.h): boxes stay on their pixels through the tiling, the cut and
// the resize; blends weigh both images; bad parts are refused by name.
#include <doctest/doctest.h>

#include <cmath>

#include "bright_box.h"
#include "data/mosaic.h"
#include "engine/error.h"

using namespace focal::data;
using focal::test::bright_box;

namespace {

constexpr int kSize = 64;

// A letterboxed-size grey part, with one white rectangle and its box when `b` is given.
Sample part(const Box* b, int label = 2) {
    Sample s;
    s.image = Image(kSize, kSize, 3, 40);
    s.source_width = s.source_height = kSize;
    if (!b) return s;
    for (int y = int(b->y1); y < int(b->y2); ++y)
        for (int x = int(b->x1); x < int(b->x2); ++x) std::fill(s.image.at(x, y), s.image.at(x, y) + 3, 250);
    s.boxes = {*b};
    s.labels = {label};
    s.difficult = {0};
    return s;
}

}  // namespace

TEST_CASE("mosaic: a rectangle in any of the four parts is found where its box says") {
    const Box rect{20, 16, 44, 50};
    int kept = 0, dropped = 0;
    for (int k = 0; k < 4; ++k)
        for (std::uint64_t seed = 0; seed < 25; ++seed) {
            CAPTURE(k);
            CAPTURE(seed);
            std::array<Sample, 4> parts = {part(nullptr), part(nullptr), part(nullptr), part(nullptr)};
            parts[std::size_t(k)] = part(&rect, 7);
            Rng rng(seed);
            const Sample s = mosaic(parts, kSize, rng);
            REQUIRE(s.image.width == kSize);
            REQUIRE(s.image.height == kSize);
            REQUIRE(s.boxes.size() <= 1);
            CHECK(s.labels.size() == s.boxes.size());
            CHECK(s.difficult.size() == s.boxes.size());
            CHECK(s.source_width == 0);  // no single original image
            if (s.boxes.empty()) {
                ++dropped;
                continue;
            }
            ++kept;
            const Box& b = s.boxes[0];
            CHECK(s.labels[0] == 7);
            CHECK(b.x1 >= 0);
            CHECK(b.y1 >= 0);
            CHECK(b.x2 <= float(kSize));
            CHECK(b.y2 <= float(kSize));
            CHECK(b.width() >= 2.0f);
            CHECK(b.height() >= 2.0f);
            // The resize (by 1/1-1/2) blurs an edge over about a pixel.
            const Box seen = bright_box(s.image);
            CHECK(std::abs(seen.x1 - b.x1) <= 1.5f);
            CHECK(std::abs(seen.y1 - b.y1) <= 1.5f);
            CHECK(std::abs(seen.x2 - b.x2) <= 1.5f);
            CHECK(std::abs(seen.y2 - b.y2) <= 1.5f);
        }
    // The window always holds the tiles' common corner, so most parts show their object.
    CHECK(kept > 3 * dropped);
}

TEST_CASE("mosaic: zoom-out 2 shows the objects of all parts at half scale") {
    const Box rect{8, 8, 56, 56};
    MosaicOptions o;
    o.min_zoom_out = o.max_zoom_out = 2.0f;
    Rng rng(1);
    const Sample s = mosaic({part(&rect, 0), part(&rect, 1), part(&rect, 2), part(&rect, 3)}, kSize, rng, o);
    REQUIRE(s.boxes.size() >= 1);
    for (const Box& b : s.boxes) {
        CHECK(b.width() <= 24.0f + 1e-4f);  // 48 px at half scale, or less where cut
        CHECK(b.height() <= 24.0f + 1e-4f);
    }
}

TEST_CASE("mosaic refuses parts that are not letterboxed to its size, and a bad zoom range") {
    Rng rng(0);
    std::array<Sample, 4> parts = {part(nullptr), part(nullptr), part(nullptr), part(nullptr)};
    parts[2].image = Image(10, 10, 3, 0);
    CHECK_THROWS_WITH_AS(mosaic(parts, kSize, rng), doctest::Contains("[mosaic] part 2 is 10x10x3"), focal::Error);
    parts[2] = part(nullptr);
    parts[1].labels = {1};
    CHECK_THROWS_WITH_AS(mosaic(parts, kSize, rng), doctest::Contains("part 1 has 0 boxes but 1 labels"), focal::Error);
    parts[1] = part(nullptr);
    MosaicOptions bad;
    bad.min_zoom_out = 2, bad.max_zoom_out = 1;
    CHECK_THROWS_WITH_AS(mosaic(parts, kSize, rng, bad), doctest::Contains("zoom-out range [2, 1]"), focal::Error);
}

TEST_CASE("mixup blends the pixels with weights in range and keeps both images' boxes") {
    const Box ra{2, 2, 20, 20}, rb{30, 30, 60, 50};
    Sample a = part(&ra, 1), b = part(&rb, 4);
    std::fill(a.image.pixels.begin(), a.image.pixels.end(), 100);
    std::fill(b.image.pixels.begin(), b.image.pixels.end(), 200);
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        Rng rng(seed);
        const Sample m = mixup(a, b, rng);
        const int v = m.image.pixels[0];
        CHECK(v >= 140);  // 100 w + 200 (1 - w), w in [.4, .6]
        CHECK(v <= 160);
        CHECK(std::all_of(m.image.pixels.begin(), m.image.pixels.end(), [v](std::uint8_t p) { return p == v; }));
        CHECK(m.boxes == std::vector<Box>{ra, rb});
        CHECK(m.labels == std::vector<int>{1, 4});
        CHECK(m.difficult.size() == 2);
        CHECK(m.source_width == 0);
    }
    MixupOptions fixed;
    fixed.min_weight = fixed.max_weight = 0.25f;
    Rng rng(0);
    CHECK(mixup(a, b, rng, fixed).image.pixels[5] == 175);
    Sample small;
    small.image = Image(8, 8, 3, 0);
    CHECK_THROWS_WITH_AS(mixup(a, small, rng), doctest::Contains("[mixup] the images must be RGB of one size"),
                         focal::Error);
}
