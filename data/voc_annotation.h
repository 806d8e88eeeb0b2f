// One image's objects (Object, Annotation: the types every dataset format is read into,
// data/dataset.h), and one Pascal VOC annotation file (Annotations/<id>.xml): parse and write.
// Accepted: any element order, unknown elements (ignored), absent optional fields (<size>,
// <difficult>, <truncated>, <pose>...), integer or decimal coordinates, 0-based exports whose
// <xmin> is 0. Refused with a message naming the file and line: malformed XML, a root other
// than <annotation>, a non-numeric or missing coordinate, <xmax> < <xmin>, a box outside
// the image, an object without a <name>.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/box.h"

namespace focal::data {

struct Object {
    std::string name;
    int label = -1;  // index into the dataset's class list; -1 until the dataset resolves it
    Box box;         // continuous pixel coordinates (box.h): x1 = <xmin> - 1, x2 = <xmax>
    // An ignore region: never a positive in training, neither true nor false positive in the
    // metrics, not counted in recall. VOC's <difficult>, COCO's "iscrowd", YOLO's
    // labels/<stem>.ignore.txt (docs/data.md, "Your own data").
    bool difficult = false;
    bool truncated = false;
    int line = 0;                     // line of <object> (VOC) or of the label (YOLO), for messages
    std::int64_t annotation_id = -1;  // COCO's annotation "id"; -1 in the other formats
    float area = -1;                  // COCO's "area" (the segment's) when given; -1: the box's
};

struct Annotation {
    std::string id;                        // file stem, e.g. "000005"
    std::string filename;                  // <filename>; may be empty
    int width = 0, height = 0, depth = 0;  // <size>; 0 when absent (or written as 0)
    std::vector<Object> objects;
    std::string source;         // the annotation file, relative to the dataset, for messages
    std::int64_t coco_id = -1;  // COCO's image "id"; -1 in the other formats
};

// Where an object was annotated, for messages: "Annotations/a.xml line 4",
// "labels/a.txt line 2", "annotations/instances_val.json annotation id 17".
std::string object_location(const Annotation& a, const Object& o);

// Parses `xml`; `source` names the file in messages ("Annotations/000005.xml").
// A problem with the file as a whole throws Error. A problem with one object throws too,
// unless `skipped` is given: then that object is dropped and the message appended to it.
Annotation parse_voc_annotation(std::string_view xml, const std::string& source,
                                std::vector<std::string>* skipped = nullptr);

// Reads and parses a file; `source` defaults to the path.
Annotation read_voc_annotation(const std::string& path, std::vector<std::string>* skipped = nullptr,
                               const std::string& source = "");

// The problem with `box` in a width x height image, or "" (used once the size is known).
std::string box_problem(const Box& box, int width, int height);

// VOC XML for `a`, boxes written back as 1-based integers when they are whole numbers.
std::string write_voc_annotation(const Annotation& a, const std::string& folder = "VOC2007");

}  // namespace focal::data
