// libFuzzer target for the COCO json parser (data/coco.h). Any input must either throw
// focal::Error or parse into finite, non-empty boxes inside their images, named by a known
// category; what write_coco_json makes of that must read back to the same boxes.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/coco.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

void check_promises(const CocoFile& f) {
    if (f.classes.size() != f.category_ids.size()) __builtin_trap();
    for (const Annotation& a : f.images)
        for (const Object& o : a.objects) {
            const Box& b = o.box;
            if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2))
                __builtin_trap();
            if (!b.valid() || o.name.empty()) __builtin_trap();
            if (a.width > 0 && (b.x1 < 0 || b.y1 < 0 || b.x2 > float(a.width) || b.y2 > float(a.height)))
                __builtin_trap();
        }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view json(reinterpret_cast<const char*>(data), size);
    for (const bool skip : {false, true}) {
        CocoFile f;
        try {
            f = parse_coco(json, "fuzz.json", skip);
        } catch (const focal::Error&) {
            continue;
        }
        check_promises(f);
        // Written back (labels by name) and read again: the same boxes in the same images.
        std::vector<std::string> names;
        std::vector<std::int64_t> ids;
        bool sized = true;
        for (Annotation& a : f.images) {
            names.push_back(a.filename);
            ids.push_back(a.coco_id);
            sized = sized && a.width > 0 && a.height > 0;
            for (Object& o : a.objects)
                for (std::size_t k = 0; k < f.classes.size(); ++k)
                    if (f.classes[k] == o.name) o.label = int(k);
        }
        if (!sized) continue;  // width and height come from the image file then
        const CocoFile back = parse_coco(write_coco_json(f.images, names, ids, f.classes, f.category_ids), "w.json");
        if (back.images.size() != f.images.size()) __builtin_trap();
        for (std::size_t i = 0; i < f.images.size(); ++i) {
            if (back.images[i].objects.size() != f.images[i].objects.size()) __builtin_trap();
            for (std::size_t j = 0; j < f.images[i].objects.size(); ++j) {
                const Box &a = f.images[i].objects[j].box, &b = back.images[i].objects[j].box;
                // x + w is rounded once more on the way back: within a float's step.
                const auto near = [](float u, float v) {
                    return std::fabs(u - v) <= 1e-6f * std::max(1.0f, std::fabs(u));
                };
                if (!near(a.x1, b.x1) || !near(a.y1, b.y1) || !near(a.x2, b.x2) || !near(a.y2, b.y2)) __builtin_trap();
                if (f.images[i].objects[j].difficult != back.images[i].objects[j].difficult) __builtin_trap();
            }
        }
    }
    return 0;
}
