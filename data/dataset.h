// A detection dataset on disk in one of three formats, behind one interface: Pascal VOC
// (data/voc.h), COCO json (data/coco.h) and YOLO txt (data/yolo.h). A format's reader lists
// the split's images and their objects by class name, in continuous pixel coordinates
// (data/box.h); Dataset::open then checks the images and boxes the same way for all three and
// resolves the names against the class list. Images are decoded on demand.
//
//   const Dataset ds = Dataset::open("my_coco_export", {.split = "val"});   // format detected
//   for (std::size_t i = 0; i < ds.size(); ++i) ds.annotation(i).objects ...
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"
#include "data/voc_annotation.h"

namespace focal::data {

enum class DatasetFormat { Voc, Coco, Yolo };
const char* format_name(DatasetFormat format);  // "voc", "coco", "yolo"
DatasetFormat parse_format(const std::string& name);

// The format of the dataset at `path`, from its layout:
//   voc   Annotations/ in it, or in VOC20XX/ or VOCdevkit/VOC20XX/ under it
//   coco  a .json file, or a folder with annotations/instances_*.json or instances_*.json
//   yolo  a data.yaml, or a folder with images/ and labels/ (or data.yaml, or classes.txt)
// Throws, saying what it looked for, when none matches.
DatasetFormat detect_format(const std::string& path);

struct DatasetOptions {
    std::string format;              // "" = detect_format(path); else voc, coco or yolo
    std::string split = "trainval";  // a split name (each format's splits: docs/data.md), "all",
                                     // or a .txt file of ids (VOC) or image paths (YOLO); "a+b"
                                     // is their union; VOC names a year's split "VOC2012/train"
    int year = 0;                    // VOC only: VOCdevkit/VOC<year>; 0 picks VOC2007
    // Class list: "" = the format's own (VOC: classes.txt or the 20 VOC classes; COCO: the
    // categories; YOLO: data.yaml's names or classes.txt); "voc"; "auto" = the names found in
    // the annotations, sorted; a file with one name a line; or a comma-separated list.
    std::string classes;
    bool skip_bad = false;      // warn and skip bad files and objects instead of throwing
    bool check_images = false;  // read every image up front: missing, truncated, wrong size
};

// What a format's reader hands to Dataset::open: the split's images, objects named (label -1).
struct DatasetParts {
    std::string root, split;
    std::vector<Annotation> items;  // source set; width/height 0 when unknown
    std::vector<std::string> image_paths;
    std::vector<std::string> classes;        // the format's own class list; empty: none
    std::string class_source;                // where it came from, e.g. "data.yaml (3 classes)"
    std::vector<std::int64_t> category_ids;  // COCO: each own class's category id
    std::vector<std::string> warnings;       // with skip_bad: what was skipped, one line each
    int skipped_images = 0, skipped_objects = 0;
};

class Dataset {
public:
    // Throws Error naming the file and the entry or line (see DatasetOptions::skip_bad).
    static Dataset open(const std::string& path, const DatasetOptions& options = {});

    DatasetFormat format() const { return format_; }
    const std::string& root() const { return root_; }  // the dataset's folder
    const std::string& split() const { return split_; }
    const std::vector<std::string>& classes() const { return classes_; }
    const std::string& class_source() const { return class_source_; }  // where they came from
    // COCO's category id of each class: the dataset's own when it is COCO, else label + 1.
    const std::vector<std::int64_t>& category_ids() const { return category_ids_; }

    std::size_t size() const { return items_.size(); }
    const Annotation& annotation(std::size_t i) const { return items_.at(i); }
    const std::string& image_path(std::size_t i) const { return image_paths_.at(i); }

    // Decodes image i; throws if it is unreadable, truncated or not the annotated size.
    Image load_image(std::size_t i) const;

    // With skip_bad: one line per skipped file, line or object, and the counts.
    const std::vector<std::string>& warnings() const { return warnings_; }
    int skipped_images() const { return skipped_images_; }
    int skipped_objects() const { return skipped_objects_; }
    // The closing line a command prints after the warnings, e.g. "[voc] --skip-bad: skipped
    // 2 of 1500 images and 1 object (3 warnings)"; "" when nothing was skipped.
    std::string skip_summary() const;

private:
    DatasetFormat format_ = DatasetFormat::Voc;
    std::string root_, split_, class_source_;
    std::vector<std::string> classes_;
    std::vector<std::int64_t> category_ids_;
    std::vector<Annotation> items_;
    std::vector<std::string> image_paths_;
    std::vector<std::string> warnings_;
    int skipped_images_ = 0, skipped_objects_ = 0;
};

// COCO's image id of each item: the dataset's own when it is COCO; else the ids read as
// numbers when all are decimal and distinct ("000005" -> 5); else 1..N in order. `focal
// convert --to coco` and the COCO results files use these, so they agree.
std::vector<std::int64_t> coco_image_ids(const Dataset& dataset);
// The same rule on ids alone (for images that are not a dataset's, as `focal detect` gets).
std::vector<std::int64_t> coco_image_ids(const std::vector<std::string>& ids);

// The image files below `dir` (any depth), sorted: .jpg .jpeg .png .bmp, any case.
std::vector<std::string> list_images(const std::string& dir);
bool is_image_file(const std::string& path);

}  // namespace focal::data
