// libFuzzer target for the VOC annotation parser. Any input must either parse into boxes that
// keep the parser's promises or throw focal::Error; anything else (another exception, a
// sanitizer report, a broken promise, more memory than its bound in docs/testing.md) is a
// finding.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "alloc_bound.h"
#include "data/voc_annotation.h"
#include "engine/error.h"

using namespace focal::data;

namespace {

void check_promises(const Annotation& a) {
    for (const Object& o : a.objects) {
        const Box& b = o.box;
        if (!std::isfinite(b.x1) || !std::isfinite(b.y1) || !std::isfinite(b.x2) || !std::isfinite(b.y2))
            __builtin_trap();
        if (!b.valid() || o.name.empty()) __builtin_trap();
        if (a.width > 0 && a.height > 0 && !box_problem(b, a.width, a.height).empty()) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view xml(reinterpret_cast<const char*>(data), size);
    for (const bool skip : {false, true}) {
        std::vector<std::string> skipped;
        Annotation a;
        try {
            focal::fuzz::AllocationBound bound(size, 64);
            a = parse_voc_annotation(xml, "fuzz.xml", skip ? &skipped : nullptr);
        } catch (const focal::Error&) {
            continue;
        }
        check_promises(a);
        // What we write, we read back: same objects, same names.
        try {
            const Annotation b = parse_voc_annotation(write_voc_annotation(a), "written.xml");
            if (b.objects.size() != a.objects.size()) __builtin_trap();
            for (std::size_t i = 0; i < a.objects.size(); ++i)
                if (b.objects[i].name != a.objects[i].name || b.objects[i].difficult != a.objects[i].difficult)
                    __builtin_trap();
        } catch (const focal::Error&) {
            // Only a box thinner than float precision around x + 1 may fail to survive.
            bool thin = false;
            for (const Object& o : a.objects) thin = thin || o.box.width() < 1e-3f || o.box.height() < 1e-3f;
            if (!thin) __builtin_trap();
        }
    }
    return 0;
}
