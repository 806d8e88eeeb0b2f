// COCO json datasets (data/coco.h): layouts, splits, crowd boxes, categories with gaps, and
// every malformed entry named by file and entry.
#include <doctest/doctest.h>

#include "data/coco.h"
#include "data/image.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;
using focal::test::TempDir;
using focal::test::write_file;

namespace {

// Two 32 x 24 images; a dog, a crowd of cats; category ids with a gap (3, 7).
const char* kCoco = R"({
  "images": [{"id": 11, "file_name": "a.jpg", "width": 32, "height": 24},
             {"id": 12, "file_name": "b.jpg", "width": 32, "height": 24}],
  "annotations": [{"id": 1, "image_id": 11, "category_id": 7, "bbox": [0, 0, 10, 10], "iscrowd": 0},
                  {"id": 2, "image_id": 11, "category_id": 3, "bbox": [4.5, 4, 27.5, 20], "iscrowd": 1,
                   "area": 100.5}],
  "categories": [{"id": 7, "name": "dog"}, {"id": 3, "name": "cat"}]
})";

void make_coco(const std::string& root) {
    write_file(root + "/annotations/instances_train.json", kCoco);
    std::filesystem::create_directories(root + "/images");
    for (const char* id : {"a", "b"}) save_jpeg(Image(32, 24, 3, 90), root + "/images/" + id + ".jpg");
}

std::string parse_error(const std::string& json) {
    try {
        parse_coco(json, "x.json");
    } catch (const focal::Error& e) {
        return e.what();
    }
    return "";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a COCO folder: detected, split by file, categories by id, crowd as ignore region") {
    TempDir dir;
    make_coco(dir / "c");
    CHECK(detect_format(dir / "c") == DatasetFormat::Coco);
    DatasetOptions o;
    o.split = "train";
    const Dataset ds = Dataset::open(dir / "c", o);
    CHECK(ds.format() == DatasetFormat::Coco);
    REQUIRE(ds.size() == 2);
    CHECK(ds.classes() == std::vector<std::string>{"cat", "dog"});  // in id order
    CHECK(ds.category_ids() == std::vector<std::int64_t>{3, 7});
    const Annotation& a = ds.annotation(0);
    CHECK(a.id == "a");
    CHECK(a.coco_id == 11);
    REQUIRE(a.objects.size() == 2);
    CHECK(a.objects[0].label == 1);
    CHECK(a.objects[0].box == Box{0, 0, 10, 10});
    CHECK(!a.objects[0].difficult);
    CHECK(a.objects[1].difficult);  // iscrowd
    CHECK(a.objects[1].box == Box{4.5f, 4, 32, 24});
    CHECK(a.objects[1].area == 100.5f);
    CHECK(ds.annotation(1).objects.empty());
    CHECK(coco_image_ids(ds) == std::vector<std::int64_t>{11, 12});
    CHECK(ds.load_image(1).width == 32);

    // The json file itself, and the folder's splits.
    CHECK(Dataset::open(dir / "c/annotations/instances_train.json").size() == 2);
    o.split = "val";
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "c", o), doctest::Contains("no split 'val'"), focal::Error);
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "c", o), doctest::Contains("splits here: train"), focal::Error);
    // --classes picks and orders; the category ids follow the names.
    o.split = "train";
    o.classes = "dog,cat";
    const Dataset named = Dataset::open(dir / "c", o);
    CHECK(named.category_ids() == std::vector<std::int64_t>{7, 3});
    CHECK(named.annotation(0).objects[0].label == 0);
}

TEST_CASE("COCO: --split all merges the files by file_name") {
    TempDir dir;
    make_coco(dir / "c");
    write_file(dir / "c/annotations/instances_val.json",
               R"({"images": [{"id": 12, "file_name": "b.jpg", "width": 32, "height": 24}],
                   "annotations": [], "categories": [{"id": 7, "name": "dog"}]})");
    DatasetOptions o;
    o.split = "all";
    CHECK(Dataset::open(dir / "c", o).size() == 2);
    o.split = "val";
    CHECK(Dataset::open(dir / "c", o).size() == 1);
}

TEST_CASE("COCO: each malformed entry is an error naming the file and the entry") {
    CHECK(parse_error("{\"images\": [").find("[coco] x.json: not valid JSON") != std::string::npos);
    CHECK(parse_error("{\"images\": [], \"annotations\": []}") == "[coco] x.json: no \"categories\" array");
    // A number beyond double's range is nlohmann-json's out_of_range, not a parse_error (fuzz_coco).
    CHECK(parse_error(replaced(kCoco, "\"width\": 32", "\"width\": 641e308"))
              .find("[coco] x.json: not valid JSON ([json.exception.out_of_range.406] number overflow") !=
          std::string::npos);
    CHECK(parse_error(replaced(kCoco, "\"category_id\": 7", "\"category_id\": 5")) ==
          "[coco] x.json annotation id 1: unknown category_id 5");
    CHECK(
        parse_error(replaced(kCoco, "\"image_id\": 11, \"category_id\": 7", "\"image_id\": 99, \"category_id\": 7")) ==
        "[coco] x.json annotation id 1: unknown image_id 99");
    CHECK(parse_error(replaced(kCoco, "[0, 0, 10, 10]", "[30, 0, 10, 10]"))
              .find("annotation id 1: box [30, 0, 10, 10] lies outside the 32x24 image a.jpg") != std::string::npos);
    CHECK(parse_error(replaced(kCoco, "[0, 0, 10, 10]", "[0, 0, 0, 10]")).find("annotation id 1: empty box") !=
          std::string::npos);
    CHECK(parse_error(replaced(kCoco, "[0, 0, 10, 10]", "[0, 0, 10]")) ==
          "[coco] x.json annotation id 1: \"bbox\" is not [x, y, w, h]");
    CHECK(parse_error(replaced(kCoco, "[0, 0, 10, 10]", "[0, \"a\", 10, 10]"))
              .find("a bbox value is not a finite number") != std::string::npos);
    CHECK(parse_error(replaced(kCoco, "\"id\": 12,", "\"id\": 11,")) ==
          "[coco] x.json images[1] (id 11): duplicate image id 11");
    CHECK(parse_error(replaced(kCoco, "\"b.jpg\"", "\"a.jpg\"")) ==
          "[coco] x.json images[1] (id 12): duplicate file_name 'a.jpg'");
    CHECK(parse_error(replaced(kCoco, "\"b.jpg\"", "\"../b.jpg\"")).find("leaves the image folder") !=
          std::string::npos);
    CHECK(parse_error(replaced(kCoco, "\"name\": \"cat\"", "\"name\": \"dog\"")) ==
          "[coco] x.json categories[1]: duplicate category name 'dog'");
    CHECK(parse_error(replaced(kCoco, "\"width\": 32, \"height\": 24}]", "\"width\": -3, \"height\": 24}]"))
              .find("images[1] (id 12): \"width\" -3 is not an image size") != std::string::npos);
    CHECK(parse_error(replaced(kCoco, "\"width\": 32, \"height\": 24}]", "\"width\": 32}]")) ==
          "[coco] x.json images[1] (id 12): has \"width\" but not \"height\" (both, or neither to read the image's)");
    // Within a pixel past the border: rounding in real exports, clipped.
    const CocoFile f = parse_coco(replaced(kCoco, "[0, 0, 10, 10]", "[-0.5, 0, 32.9, 10]"), "x.json");
    CHECK(f.images[0].objects[0].box == Box{0, 0, 32, 10});
}

TEST_CASE("COCO: --skip-bad skips bad entries and counts them; a missing image is named") {
    TempDir dir;
    make_coco(dir / "c");
    write_file(dir / "c/annotations/instances_train.json", replaced(kCoco, "\"category_id\": 7", "\"category_id\": 5"));
    std::filesystem::remove(dir / "c/images/b.jpg");
    DatasetOptions o;
    o.split = "train";
    CHECK_THROWS_WITH_AS(Dataset::open(dir / "c", o), doctest::Contains("unknown category_id 5"), focal::Error);
    o.skip_bad = true;
    const Dataset ds = Dataset::open(dir / "c", o);
    CHECK(ds.size() == 1);
    CHECK(ds.skipped_objects() == 1);
    CHECK(ds.skipped_images() == 1);
    REQUIRE(ds.warnings().size() == 2);
    CHECK(ds.warnings()[1] ==
          "[coco] images/b.jpg: missing image (annotated by annotations/instances_train.json) (image skipped)");
    CHECK(ds.skip_summary() == "[coco] --skip-bad: skipped 1 of 2 images and 1 object (2 warnings)");
}

TEST_CASE("COCO: written and read back, boxes and crowd flags kept") {
    Annotation a;
    a.width = 50, a.height = 40;
    Object o;
    o.label = 1, o.name = "dog", o.box = {1.5f, 2, 30.25f, 40};
    a.objects.push_back(o);
    o.label = 0, o.name = "cat", o.difficult = true, o.box = {0, 0, 50, 40};
    a.objects.push_back(o);
    const std::string json = write_coco_json({a}, {"x.jpg"}, {5}, {"cat", "dog"}, {1, 2});
    CHECK(json.find("\"bbox\":[1.5,2.0,28.75,38.0]") != std::string::npos);
    const CocoFile f = parse_coco(json, "x.json");
    REQUIRE(f.images.size() == 1);
    CHECK(f.images[0].coco_id == 5);
    REQUIRE(f.images[0].objects.size() == 2);
    CHECK(f.images[0].objects[0].box == a.objects[0].box);
    CHECK(f.images[0].objects[0].name == "dog");
    CHECK(f.images[0].objects[1].difficult);
}
