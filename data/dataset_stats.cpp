#include "data/dataset_stats.h"

#include <algorithm>
#include <cmath>

namespace focal::data {
namespace {

std::array<float, 5> quantiles(std::vector<float> v) {
    if (v.empty()) return {};
    std::sort(v.begin(), v.end());
    const auto at = [&](double q) { return v[std::size_t(std::lround(q * double(v.size() - 1)))]; };
    return {at(0), at(0.25), at(0.5), at(0.75), at(1)};
}

}  // namespace

DatasetStats summarize(const Dataset& ds) {
    DatasetStats s;
    s.images = int(ds.size());
    s.per_class.assign(ds.classes().size(), 0);
    s.per_class_difficult.assign(ds.classes().size(), 0);
    std::vector<float> sizes, aspects;
    for (std::size_t i = 0; i < ds.size(); ++i) {
        const Annotation& a = ds.annotation(i);
        const long long pixels = (long long)a.width * a.height;
        if (i == 0 || pixels < (long long)s.min_image[0] * s.min_image[1]) s.min_image = {a.width, a.height};
        if (pixels > (long long)s.max_image[0] * s.max_image[1]) s.max_image = {a.width, a.height};
        s.empty_images += a.objects.empty();
        s.max_objects_per_image = std::max(s.max_objects_per_image, int(a.objects.size()));
        for (std::size_t k = 0; k < a.objects.size(); ++k) {
            const Object& o = a.objects[k];
            ++s.objects;
            ++s.per_class[std::size_t(o.label)];
            s.per_class_difficult[std::size_t(o.label)] += o.difficult;
            s.difficult += o.difficult;
            s.truncated += o.truncated;
            const float side = std::sqrt(o.box.area());
            (side < 32 ? s.small : side < 96 ? s.medium : s.large)++;
            sizes.push_back(side);
            aspects.push_back(o.box.width() / std::max(o.box.height(), 1e-6f));
            const std::string where = object_location(a, o);
            if (o.box.width() < 2 || o.box.height() < 2)
                s.problems.push_back(where + ": '" + o.name + "' box is a sliver (" + std::to_string(o.box.width()) +
                                     " x " + std::to_string(o.box.height()) + " px)");
            for (std::size_t j = 0; j < k; ++j)
                if (a.objects[j].label == o.label && iou(a.objects[j].box, o.box) > 0.95)
                    s.problems.push_back(where + ": '" + o.name + "' duplicates the box of " +
                                         object_location(a, a.objects[j]));
        }
    }
    s.size_quantiles = quantiles(sizes);
    s.aspect_quantiles = quantiles(aspects);
    return s;
}

}  // namespace focal::data
