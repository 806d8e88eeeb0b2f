// COCO-format detection datasets (Lin et al. 2014, "Microsoft COCO: Common Objects in
// Context"; the format of cocodataset.org's instances_*.json): one json file per split,
//
//   {"images":      [{"id": 5, "file_name": "000005.jpg", "width": 500, "height": 375}, ...],
//    "annotations": [{"id": 1, "image_id": 5, "category_id": 9, "bbox": [x, y, w, h],
//                     "iscrowd": 0, "area": 1234.5}, ...],
//    "categories":  [{"id": 9, "name": "chair"}, ...]}
//
// with the images in a folder beside it. Layouts read (split S):
//   ROOT/annotations/instances_S.json or ROOT/instances_S.json, images in the first of
//   ROOT/images/S/, ROOT/S/, ROOT/images/, ROOT/ that holds the first image's file_name;
//   or --data FILE.json (the split is that file; ROOT its folder, or the folder above
//   annotations/). --split all merges every instances_*.json of ROOT, by file_name.
// "bbox" is continuous and 0-based (data/box.h). "iscrowd": 1 makes the object an ignore
// region (Object::difficult): never a positive in training; in COCO AP it follows COCO's
// crowd rule (detector/coco_metric.h). Categories keep their names and ids (gaps allowed).
// A box may run past the image by up to kCocoOverrun px (rounding in real exports) and is
// clipped; further is an error.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "data/dataset.h"

namespace focal::data {

constexpr double kCocoOverrun = 1.0;

// One parsed json file: images with their objects named by category (label -1), the
// categories in id order. `source` names the file in messages.
struct CocoFile {
    std::vector<Annotation> images;  // id = file_name without extension, coco_id = "id"
    std::vector<std::string> classes;
    std::vector<std::int64_t> category_ids;
    std::vector<std::string> warnings;  // with skip_bad: entries skipped
    int skipped_images = 0, skipped_objects = 0;
};

// Throws Error naming the file and the entry ("images[3] (id 7)", "annotation id 12"): bad
// JSON (with its line and column), a missing or mistyped field, an unknown image or category
// id, a duplicate id or file_name, an empty box or one outside its image. With skip_bad, a bad
// image or annotation entry is skipped and noted instead; a bad file still throws.
CocoFile parse_coco(std::string_view json, const std::string& source, bool skip_bad = false);

// The (split, file) pairs of a folder: annotations/instances_<split>.json, instances_<split>.json.
std::vector<std::pair<std::string, std::string>> find_coco_files(const std::string& dir);

// Reads a COCO dataset's split for Dataset::open (see the layouts above).
DatasetParts read_coco(const std::string& path, const DatasetOptions& options);

// COCO json for images with their objects (labels into `classes`): file_names relative to
// the image folder, image and category ids as given. Difficult objects are written as
// "iscrowd": 1. Boxes use to_coco (data/box.h); "area" is the object's own or the box's.
std::string write_coco_json(const std::vector<Annotation>& images, const std::vector<std::string>& file_names,
                            const std::vector<std::int64_t>& image_ids, const std::vector<std::string>& classes,
                            const std::vector<std::int64_t>& category_ids);

}  // namespace focal::data
