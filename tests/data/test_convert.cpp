// `focal convert` (data/convert.h): VOC -> COCO -> YOLO -> VOC gives the same images, boxes
// (within the formats' precision), ignore flags and inspect counts, on a generated shapes set
// and on the VOC 2007 sample; outputs are never written over the input or an existing folder.
#include <doctest/doctest.h>

#include <map>

#include "data/convert.h"
#include "data/dataset_stats.h"
#include "data/shapes.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;
using focal::test::TempDir;

namespace {

Dataset open(const std::string& path, const std::string& split) {
    DatasetOptions o;
    o.split = split;
    return Dataset::open(path, o);
}

std::string convert(const std::string& in, const std::string& to, const std::string& out,
                    const std::string& split = "all") {
    ConvertOptions o;
    o.to = to, o.out = out;
    o.input.split = split;
    convert_dataset(in, o);
    return out;
}

// The same images (by file stem), the same boxes to `tolerance` px, labels and ignore flags.
void check_same(const Dataset& a, const Dataset& b, float tolerance) {
    CHECK(a.classes() == b.classes());
    REQUIRE(a.size() == b.size());
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < b.size(); ++i) index[std::filesystem::path(b.annotation(i).id).filename().string()] = i;
    int mismatches = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const Annotation& x = a.annotation(i);
        REQUIRE(index.count(x.id));
        const Annotation& y = b.annotation(index[x.id]);
        CHECK(x.width == y.width);
        REQUIRE(x.objects.size() == y.objects.size());
        // Order within an image may change (YOLO puts ignore regions after the others).
        std::vector<bool> used(y.objects.size(), false);
        for (const Object& o : x.objects) {
            bool found = false;
            for (std::size_t k = 0; k < y.objects.size() && !found; ++k) {
                const Object& p = y.objects[k];
                if (used[k] || p.label != o.label || p.difficult != o.difficult) continue;
                if (std::fabs(p.box.x1 - o.box.x1) <= tolerance && std::fabs(p.box.y1 - o.box.y1) <= tolerance &&
                    std::fabs(p.box.x2 - o.box.x2) <= tolerance && std::fabs(p.box.y2 - o.box.y2) <= tolerance)
                    used[k] = found = true;
            }
            mismatches += !found;
        }
    }
    CHECK(mismatches == 0);
    const DatasetStats s = summarize(a), t = summarize(b);
    CHECK(s.images == t.images);
    CHECK(s.objects == t.objects);
    CHECK(s.per_class == t.per_class);
    CHECK(s.per_class_difficult == t.per_class_difficult);
    CHECK(s.size_quantiles == t.size_quantiles);
}

void round_trip(const std::string& voc, const std::string& split, const TempDir& dir) {
    const std::string coco = convert(voc, "coco", dir / "coco", split);
    const std::string yolo = convert(coco, "yolo", dir / "yolo", split == "all" ? "all" : split);
    const std::string back = convert(yolo, "voc", dir / "voc", split == "all" ? "all" : split);
    const Dataset original = open(voc, split);
    CHECK(detect_format(coco) == DatasetFormat::Coco);
    CHECK(detect_format(yolo) == DatasetFormat::Yolo);
    check_same(original, open(coco, split), 0);
    check_same(original, open(yolo, split), 0);  // YOLO's decimals snap back to the pixels
    check_same(original, open(back, split), 0);
}

}  // namespace

TEST_CASE("VOC -> COCO -> YOLO -> VOC on a shapes set: same boxes, flags, counts, splits") {
    TempDir dir;
    ShapesOptions so;
    so.images = 40;
    so.size = 96;
    write_shapes_dataset(dir / "shapes", so);
    round_trip(dir / "shapes", "all", dir);
    for (const char* split : {"train", "val", "trainval", "test"})
        check_same(open(dir / "shapes", split), open(dir / "voc", split), 0);
    check_same(open(dir / "shapes", "val"), open(dir / "coco", "val"), 0);
    check_same(open(dir / "shapes", "val"), open(dir / "yolo", "val"), 0);
}

TEST_CASE("convert refuses to write over an existing folder (unless --force) or the input") {
    TempDir dir;
    ShapesOptions so;
    so.images = 5;
    so.size = 64;
    write_shapes_dataset(dir / "shapes", so);
    std::filesystem::create_directories(dir / "taken");
    focal::test::write_file(dir / "taken/keep.txt", "mine");
    ConvertOptions o;
    o.to = "coco", o.out = dir / "taken";
    o.input.split = "all";
    CHECK_THROWS_WITH_AS(convert_dataset(dir / "shapes", o), doctest::Contains("exists; --force replaces it"),
                         focal::Error);
    CHECK(std::filesystem::exists(dir / "taken/keep.txt"));
    o.out = dir / "shapes";
    o.force = true;
    CHECK_THROWS_WITH_AS(convert_dataset(dir / "shapes", o), doctest::Contains("overlaps the input"), focal::Error);
    o.out = dir / "shapes/inside";
    CHECK_THROWS_WITH_AS(convert_dataset(dir / "shapes", o), doctest::Contains("overlaps the input"), focal::Error);
    o.out = dir / "taken";
    convert_dataset(dir / "shapes", o);
    CHECK(!std::filesystem::exists(dir / "taken/keep.txt"));
    CHECK(std::filesystem::exists(dir / "taken/annotations/instances_train.json"));
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))  // no temporary folder left
        CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
}

TEST_CASE("VOC -> COCO -> YOLO -> VOC on the genuine VOC 2007 sample (val)") {
    const std::string voc = focal::test::voc_sample();
    if (voc.empty()) {
        MESSAGE("skipped: no VOC sample at ../shared/data/VOCdevkit");
        return;
    }
    TempDir dir;
    round_trip(voc, "val", dir);
}
