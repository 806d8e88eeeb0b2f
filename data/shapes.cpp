// Scene generation for the synthetic dataset (writing the files: shapes_writer.cpp).
#include "data/shapes.h"

#include <cmath>
#include <numbers>

#include "data/raster.h"
#include "engine/error.h"

namespace focal::data {

const std::vector<std::string>& shape_classes() {
    static const std::vector<std::string> classes = {"circle", "square", "triangle", "star", "cross"};
    return classes;
}

namespace {

constexpr double kClassShare[] = {0.30, 0.25, 0.20, 0.15, 0.10};
constexpr float kPi = std::numbers::pi_v<float>;

// One drawable figure: a polygon, a circle or an ellipse, filled or (stroke > 0) hollow.
struct Figure {
    enum Kind { Polygon, Circle, Ellipse } kind = Polygon;
    std::vector<Point> polygon;
    Point centre;
    float rx = 0, ry = 0, angle = 0;  // circle: rx; ellipse: semi-axes, rotation
    float stroke = 0;

    float distance(float x, float y) const {
        float d;
        if (kind == Polygon) {
            d = polygon_distance(polygon, x, y);
        } else if (kind == Circle) {
            d = std::hypot(x - centre.x, y - centre.y) - rx;
        } else {
            // First-order distance to an ellipse: (k - 1) / |grad k|, k = |(u/rx, v/ry)|.
            const float c = std::cos(angle), s = std::sin(angle);
            const float u = (x - centre.x) * c + (y - centre.y) * s;
            const float v = -(x - centre.x) * s + (y - centre.y) * c;
            const float k = std::hypot(u / rx, v / ry);
            const float grad = std::hypot(u / (rx * rx), v / (ry * ry));
            d = k < 1e-4f ? -std::min(rx, ry) : (k - 1) * k / grad;
        }
        return stroke > 0 ? std::fabs(d) - stroke / 2 : d;
    }

    Box box() const {
        if (kind == Polygon) return bounds(polygon);
        float ex = rx, ey = rx;
        if (kind == Ellipse) {
            const float c = std::cos(angle), s = std::sin(angle);
            ex = std::sqrt(rx * rx * c * c + ry * ry * s * s);
            ey = std::sqrt(rx * rx * s * s + ry * ry * c * c);
        }
        return {centre.x - ex, centre.y - ey, centre.x + ex, centre.y + ey};
    }
};

// The figure of class `label` whose extent is about `size` px, centred on c.
Figure object_figure(int label, Point c, float size, Rng& rng) {
    Figure f;
    const float r = size / 2;
    const float tilt = float(rng.uniform(-0.35, 0.35));  // squares and crosses stay upright-ish
    switch (label) {
        case 0:
            f.kind = Figure::Circle;
            f.centre = c;
            f.rx = r;
            break;
        case 1: {
            const float side = size / (std::fabs(std::cos(tilt)) + std::fabs(std::sin(tilt)));
            f.polygon = rectangle_polygon(c.x, c.y, side, side, tilt);
            break;
        }
        case 2: f.polygon = regular_polygon(c.x, c.y, r * 1.1f, 3, float(rng.uniform(0, 2 * kPi))); break;
        case 3: f.polygon = star_polygon(c.x, c.y, r, 5, 0.45f, float(rng.uniform(0, 2 * kPi))); break;
        default: f.polygon = cross_polygon(c.x, c.y, r * 1.05f, 0.7f, tilt); break;
    }
    return f;
}

// A hard negative about `size` px: an elongated ellipse, a bar, a hexagon, or a hollow
// outline of a circle, square or triangle.
Figure distractor_figure(Point c, float size, Rng& rng) {
    Figure f;
    const float r = size / 2, turn = float(rng.uniform(0, kPi));
    switch (rng.uniform_int(0, 3)) {
        case 0:
            f.kind = Figure::Ellipse;
            f.centre = c;
            f.angle = turn;
            f.rx = r;
            f.ry = r / float(rng.uniform(2.0, 3.5));
            break;
        case 1: f.polygon = rectangle_polygon(c.x, c.y, size, size / float(rng.uniform(3.0, 7.0)), turn); break;
        case 2: f.polygon = regular_polygon(c.x, c.y, r, 6, turn); break;
        default:
            f = object_figure(rng.uniform_int(0, 2), c, size, rng);
            f.stroke = std::max(1.5f, 0.12f * size);
            break;
    }
    return f;
}

int draw_class(Rng& rng) {
    double u = rng.uniform();
    for (int k = 0; k < 4; ++k) {
        if (u < kClassShare[k]) return k;
        u -= kClassShare[k];
    }
    return 4;
}

float log_uniform(Rng& rng, float lo, float hi) {
    return float(std::exp(rng.uniform(std::log(lo), std::log(std::max(lo, hi)))));
}

// Overlap as a share of the smaller box: a new figure may not hide much of another.
float overlap(const Box& a, const Box& b) {
    return intersect(a, b).area() / std::max(1e-6f, std::min(a.area(), b.area()));
}

// Mean colour of the image under `box`.
std::array<float, 3> mean_colour(const Image& im, const Box& box) {
    const Box b = clip(box, float(im.width), float(im.height));
    std::array<double, 3> sum{};
    int n = 0;
    for (int y = int(b.y1); y < int(std::ceil(b.y2)); ++y)
        for (int x = int(b.x1); x < int(std::ceil(b.x2)); ++x, ++n)
            for (int c = 0; c < 3; ++c) sum[c] += im.at(x, y)[c];
    n = std::max(n, 1);
    return {float(sum[0] / n), float(sum[1] / n), float(sum[2] / n)};
}

// A colour that stands out from `background` (the best of a few draws).
Rgb contrasting_colour(Rng& rng, const std::array<float, 3>& background) {
    Rgb best{};
    float best_distance = -1;
    for (int attempt = 0; attempt < 10 && best_distance < 100; ++attempt) {
        const Rgb c = random_colour(rng);
        const float d = std::hypot(c[0] - background[0], c[1] - background[1], c[2] - background[2]);
        if (d > best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

}  // namespace

void check_scene_options(const ShapesOptions& o) {
    check(o.size >= 32 && o.size <= 4096, "[shapes] image size must be 32..4096, got ", o.size);
    check(o.min_object >= 2 && o.min_object <= o.size / 2, "[shapes] min object size ", o.min_object, " must be 2..",
          o.size / 2);
    check(o.max_object == 0 || (o.max_object >= o.min_object && o.max_object <= o.size / 2),
          "[shapes] max object size ", o.max_object, " must be 0 (size / 2) or ", o.min_object, "..", o.size / 2);
}

Scene make_shape_scene(const ShapesOptions& o, int index) {
    check_scene_options(o);
    Rng rng(mix_seed(o.seed, std::uint64_t(index), std::uint64_t(o.size)));
    const float side = float(o.size);
    const float largest = o.max_object > 0 ? float(o.max_object) : side / 2;
    Scene scene;
    scene.image = Image(o.size, o.size, 3);
    paint_background(scene.image, rng);
    Annotation& a = scene.annotation;
    a.width = a.height = o.size;
    a.depth = 3;

    std::vector<Box> taken;
    const int distractors = rng.uniform_int(0, o.max_distractors);
    for (int i = 0; i < distractors; ++i) {
        const float size = log_uniform(rng, std::max(12.0f, float(o.min_object)), largest);
        const Point c{float(rng.uniform(0, side)), float(rng.uniform(0, side))};
        const Figure f = distractor_figure(c, size, rng);
        const Box box = f.box();
        bool free = true;
        for (const Box& t : taken) free = free && overlap(box, t) < 0.5f;
        if (!free) continue;
        const Rgb colour = contrasting_colour(rng, mean_colour(scene.image, box));
        const auto distance = [&](float x, float y) { return f.distance(x, y); };
        paint(scene.image, box, distance, colour);
        taken.push_back(box);
        ++scene.distractors;
    }

    const int objects = o.max_objects <= 0 || rng.chance(0.08) ? 0 : rng.uniform_int(1, o.max_objects);
    for (int i = 0; i < objects; ++i) {
        const int label = draw_class(rng);
        const float size = log_uniform(rng, float(o.min_object), largest);
        const bool may_cross_border = rng.chance(0.1);
        for (int attempt = 0; attempt < 20; ++attempt) {
            const float margin = may_cross_border ? 0 : size / 2 + 1;
            const Point c{float(rng.uniform(margin, side - margin)), float(rng.uniform(margin, side - margin))};
            const Figure f = object_figure(label, c, size, rng);
            const Box box = f.box();
            const Box visible = clip(box, side, side);
            if (visible.area() < 0.6f * box.area()) continue;
            bool free = true;
            for (const Box& t : taken) free = free && overlap(box, t) < 0.15f;
            if (!free) continue;

            const Rgb colour = contrasting_colour(rng, mean_colour(scene.image, visible));
            // A gentle linear shading across the figure, as if lit from one side.
            const float g = float(rng.uniform(-0.25, 0.25)) / std::max(1.0f, size);
            const float direction = float(rng.uniform(0, 2 * kPi));
            const float gx = std::cos(direction) * g, gy = std::sin(direction) * g;
            const auto distance = [&](float x, float y) { return f.distance(x, y); };
            const auto shade = [&](float x, float y) { return 1 + (x - c.x) * gx + (y - c.y) * gy; };
            const Box covered = paint(scene.image, box, distance, colour, shade);
            taken.push_back(box);

            Object object;
            object.name = shape_classes()[std::size_t(label)];
            object.label = label;
            // Every pixel the figure touched, anti-aliased edge included: whole pixels, as
            // VOC expects, and tight on the picture.
            object.box = covered.valid() ? covered
                                         : Box{std::floor(visible.x1), std::floor(visible.y1), std::ceil(visible.x2),
                                               std::ceil(visible.y2)};
            object.truncated = !(visible == box);
            object.difficult = std::min(object.box.width(), object.box.height()) < 8;
            a.objects.push_back(std::move(object));
            break;
        }
    }
    return scene;
}

}  // namespace focal::data
