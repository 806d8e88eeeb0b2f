// Transforms keep boxes on the pixels: a drawn rectangle is found where its box says.
#include <doctest/doctest.h>

#include "bright_box.h"
#include "data/transforms.h"
#include "engine/error.h"

using namespace focal::data;
using focal::test::bright_box;

namespace {

// A grey image with one white rectangle [x1, x2) x [y1, y2), as a sample with that box.
Sample rectangle_sample(int w, int h, Box b) {
    Sample s;
    s.image = Image(w, h, 3, 40);
    for (int y = int(b.y1); y < int(b.y2); ++y)
        for (int x = int(b.x1); x < int(b.x2); ++x) std::fill(s.image.at(x, y), s.image.at(x, y) + 3, 250);
    s.boxes = {b};
    s.labels = {3};
    s.difficult = {0};
    return s;
}

bool near(const Box& a, const Box& b, float tolerance) {
    return std::abs(a.x1 - b.x1) <= tolerance && std::abs(a.y1 - b.y1) <= tolerance &&
           std::abs(a.x2 - b.x2) <= tolerance && std::abs(a.y2 - b.y2) <= tolerance;
}

}  // namespace

TEST_CASE("hflip moves the box exactly with the rectangle") {
    Sample s = rectangle_sample(50, 30, {5, 7, 20, 25});
    hflip(s);
    CHECK(s.boxes[0] == Box{30, 7, 45, 25});
    CHECK(bright_box(s.image) == s.boxes[0]);
    CHECK(s.frame.to_original(s.boxes[0]) == Box{5, 7, 20, 25});
    hflip(s);
    CHECK(s.boxes[0] == Box{5, 7, 20, 25});
}

TEST_CASE("letterbox: aspect kept, padding centred, box on the rectangle") {
    Sample s = rectangle_sample(200, 100, {20, 30, 60, 90});
    letterbox(s, 100);
    CHECK(s.image.width == 100);
    CHECK(s.image.height == 100);
    // scale .5 -> 100 x 50 image, padded by 25 rows above and below
    CHECK(s.boxes[0] == Box{10, 40, 30, 70});
    CHECK(bright_box(s.image) == s.boxes[0]);
    CHECK(s.image.at(50, 5)[0] == kMeanRgb[0]);  // padding
    CHECK(s.image.at(50, 95)[2] == kMeanRgb[2]);
    CHECK(near(s.frame.to_original(s.boxes[0]), {20, 30, 60, 90}, 1e-4f));
}

TEST_CASE("flip then letterbox of an odd-sized image: the box follows within a pixel") {
    Sample s = rectangle_sample(333, 217, {41, 60, 170, 131});
    hflip(s);
    letterbox(s, 128);
    CHECK(near(bright_box(s.image), s.boxes[0], 1.0f));
    CHECK(near(s.frame.to_original(s.boxes[0]), {41, 60, 170, 131}, 1e-3f));
    // Frame::apply is the same map the transforms applied.
    CHECK(near(s.frame.apply({41, 60, 170, 131}), s.boxes[0], 1e-3f));
}

TEST_CASE("random scale-crop: boxes clipped with the pixels, cut-off ones dropped") {
    for (std::uint64_t seed = 0; seed < 40; ++seed) {
        Sample s = rectangle_sample(120, 90, {30, 20, 80, 70});
        s.boxes.push_back({0, 0, 4, 4});  // a tiny one, often dropped
        s.labels.push_back(1);
        s.difficult.push_back(1);
        Rng rng(seed);
        random_scale_crop(s, rng);
        REQUIRE(s.boxes.size() == s.labels.size());
        REQUIRE(s.boxes.size() == s.difficult.size());
        REQUIRE_FALSE(s.boxes.empty());  // the attempts keep at least one object
        for (std::size_t i = 0; i < s.boxes.size(); ++i) {
            const Box& b = s.boxes[i];
            CHECK(b.x1 >= 0);
            CHECK(b.y1 >= 0);
            CHECK(b.x2 <= float(s.image.width));
            CHECK(b.y2 <= float(s.image.height));
            CHECK(b.width() >= 2.0f);
            if (s.labels[i] == 3) {
                CHECK(bright_box(s.image) == b);  // pure integer shifts: exact
                CHECK(b.area() >= 0.4f * 2500);
            }
        }
    }
}

TEST_CASE("a crop that would lose every object is not taken") {
    Sample s = rectangle_sample(100, 100, {0, 0, 3, 3});
    const Image before = s.image;
    Rng rng(1);
    ScaleCropOptions o;
    o.min_zoom = o.max_zoom = 4;  // 25 x 25 windows: the 3 px box survives only in a corner
    o.min_side = 5;               // ...and never with this rule
    random_scale_crop(s, rng, o);
    CHECK(s.image.pixels == before.pixels);
    CHECK(s.boxes.size() == 1);
}

TEST_CASE("colour jitter changes pixels, not boxes, and is seeded") {
    Sample a = rectangle_sample(40, 40, {5, 5, 20, 20});
    Sample b = a, c = a;
    Rng r1(7), r2(7), r3(8);
    color_jitter(a, r1);
    color_jitter(b, r2);
    color_jitter(c, r3);
    CHECK(a.image.pixels == b.image.pixels);
    CHECK_FALSE(a.image.pixels == c.image.pixels);
    CHECK(a.boxes == c.boxes);
    JitterOptions none{0, 0, 0, 0};
    Sample d = rectangle_sample(40, 40, {5, 5, 20, 20});
    const Image before = d.image;
    color_jitter(d, r1, none);
    CHECK(d.image.pixels == before.pixels);  // the identity matrix leaves every byte alone
}

TEST_CASE("after a letterbox, jitter touches the picture and leaves the padding alone") {
    Sample s = rectangle_sample(200, 100, {20, 30, 60, 90});
    s.source_width = 200;
    s.source_height = 100;
    letterbox(s, 100);
    CHECK(s.footprint() == Box{0, 25, 100, 75});
    const Image before = s.image;
    Rng rng(3);
    color_jitter(s, rng, {0.5f, 0.5f, 0.5f, 0.1f});
    int changed_inside = 0;
    for (int y = 0; y < 100; ++y)
        for (int x = 0; x < 100; ++x) {
            const bool same = std::equal(s.image.at(x, y), s.image.at(x, y) + 3, before.at(x, y));
            if (y < 25 || y >= 75) CHECK(same);
            else changed_inside += !same;
        }
    CHECK(changed_inside > 2500);
}

TEST_CASE("normalize_to_chw: planes in order, ImageNet statistics") {
    Image im(2, 1, 3);
    im.at(0, 0)[0] = 255;
    im.at(1, 0)[2] = 124;
    std::vector<float> out(6);
    normalize_to_chw(im, out.data());
    CHECK(out[0] == doctest::Approx((1 - 0.485) / 0.229));  // R of pixel 0
    CHECK(out[1] == doctest::Approx(-0.485 / 0.229));       // R of pixel 1
    CHECK(out[2] == doctest::Approx(-0.456 / 0.224));       // G plane
    CHECK(out[5] == doctest::Approx((124 / 255.0 - 0.406) / 0.225));
}

TEST_CASE("transforms refuse inconsistent samples") {
    Sample s = rectangle_sample(10, 10, {1, 1, 5, 5});
    s.labels.clear();
    CHECK_THROWS_AS(hflip(s), focal::Error);
    Sample empty;
    CHECK_THROWS_AS(letterbox(empty, 64), focal::Error);
}
