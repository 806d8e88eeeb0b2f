// `focal convert`: a dataset from one format to another (VOC, COCO, YOLO; data/dataset.h),
// images copied, boxes through the conventions of data/box.h, ignore regions kept (VOC
// difficult <-> COCO iscrowd <-> YOLO labels/<name>.ignore.txt), class names and order kept.
//
// --split all (the default) converts every image and carries each split of the input over
// (VOC ImageSets/Main/<s>.txt <-> COCO annotations/instances_<s>.json <-> YOLO <s>.txt and
// data.yaml's key s); a named split converts that split alone. Written:
//   voc   Annotations/<id>.xml, JPEGImages/, ImageSets/Main/<s>.txt, classes.txt
//   coco  annotations/instances_<s>.json (instances_all.json when the input has no splits),
//         images/
//   yolo  images/, labels/, <s>.txt, data.yaml (names, and each split's list)
// Everything is written into a temporary folder beside `out` that is renamed to `out` once
// complete; an existing `out` is replaced only with `force`, and never the input.
#pragma once
#include <string>
#include <vector>

#include "data/dataset.h"

namespace focal::data {

struct ConvertOptions {
    std::string to;   // voc, coco or yolo
    std::string out;  // the new dataset's folder
    bool force = false;
    DatasetOptions input;  // format, year, classes, skip_bad; split: "all" or one split
};

struct ConvertResult {
    int images = 0, objects = 0;
    std::vector<std::string> splits;    // the splits written
    std::vector<std::string> warnings;  // input problems skipped (with skip_bad)
};

ConvertResult convert_dataset(const std::string& in, const ConvertOptions& options);

// The splits a dataset has (VOC: ImageSets/Main/*.txt but the per-class ones; COCO: each
// instances_*.json; YOLO: data.yaml's train/val/test, images/<s>/ folders, <s>.txt lists).
std::vector<std::string> list_splits(const std::string& path, const DatasetOptions& options);

}  // namespace focal::data
