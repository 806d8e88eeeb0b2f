// YOLO txt detection datasets (the layout of Ultralytics' exports and of most labelling tools):
//
//   ROOT/images/.../<name>.jpg   the images (any depth; .jpg .jpeg .png .bmp)
//   ROOT/labels/.../<name>.txt   one line per object: class cx cy w h (normalised to [0, 1],
//                                data/box.h); no file = no objects (a background image)
//   ROOT/data.yaml               names: the classes (or ROOT/classes.txt, one name a line);
//                                train/val/test: each split's image folder or .txt list
//
// A label's path is its image's, with the last 'images' folder renamed 'labels' and the
// extension '.txt'. Splits (split S): data.yaml's key S, else ROOT/images/S/, else ROOT/S.txt
// (image paths, one a line, relative to the .txt's folder); "all" = every image under images/.
// YOLO has no flag for ignore regions: focal reads and writes them (VOC's difficult, COCO's
// crowd) as labels/<name>.ignore.txt, in the same format, which other tools do not read.
// A box may run past the image by kYoloOverrun (a fraction of its side, from rounding) and is
// clipped; further is an error, as are a line without exactly 5 numbers, a class index beyond
// the names, an empty box, and a label file without an image.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace focal::data {

constexpr double kYoloOverrun = 1e-5;

// One label file's objects, boxes in pixels of a width x height image, named by `names`
// (index k -> names[k]). Throws naming `source` and the line; with `skipped`, a bad line is
// dropped and its message appended instead.
std::vector<Object> parse_yolo_labels(std::string_view text, const std::string& source,
                                      const std::vector<std::string>& names, int width, int height,
                                      std::vector<std::string>* skipped = nullptr);

// Label lines for `objects` (labels index the class list): "k cx cy w h", up to 8 decimals.
std::string write_yolo_labels(const std::vector<Object>& objects, int width, int height);

// The subset of YAML that data.yaml needs, and nothing more: top-level `key: value` lines
// with plain, 'single'- or "double"-quoted scalars; lists as `[a, b]` or as indented `- a`
// lines; mappings from integers 0..n-1 to names as `{0: a, 1: b}` or indented `0: a` lines
// (read as lists); `#` comments. Anything else (nesting, anchors, multi-line strings) is an
// error naming the line.
struct YamlSubset {
    std::map<std::string, std::string> scalars;
    std::map<std::string, std::vector<std::string>> lists;
};
YamlSubset parse_yaml_subset(std::string_view text, const std::string& source);

// The label file of an image path (see above); throws when it has no 'images' folder.
std::string yolo_label_path(const std::string& image_path);

// The split names of the dataset at `path` (see above; "all" is not listed).
std::vector<std::string> yolo_splits(const std::string& path);

// Reads a YOLO dataset's split for Dataset::open (see the layout above).
DatasetParts read_yolo(const std::string& path, const DatasetOptions& options);

}  // namespace focal::data
