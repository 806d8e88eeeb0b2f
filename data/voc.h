// A Pascal VOC-format dataset on disk: VOCdevkit/VOC20XX/{Annotations, JPEGImages,
// ImageSets/Main/<split>.txt}, or any folder laid out like VOC20XX (labelling-tool exports,
// `focal make-shapes`). Opening reads the split file and every annotation of the split,
// checks them, and resolves class names to labels; images are decoded on demand.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/image.h"
#include "data/voc_annotation.h"

namespace focal::data {

// The 20 Pascal VOC classes, in the devkit's order (label 0 = aeroplane).
const std::vector<std::string>& voc_classes();

struct VocOptions {
    std::string split = "trainval";  // a name under ImageSets/Main, a .txt path, or "all"
                                     // (every Annotations/*.xml, for exports without splits)
    int year = 0;                    // VOCdevkit/VOC<year>; 0 picks VOC2007
    // Class list: "" = <root>/classes.txt when present, else the 20 VOC classes;
    // "voc"; "auto" = the names found in the annotations, sorted; a file with one name a
    // line; or a comma-separated list ("cat,dog").
    std::string classes;
    bool skip_bad = false;      // warn and skip bad files and objects instead of throwing
    bool check_images = false;  // read every image up front: missing, truncated, wrong size
};

class VocDataset {
public:
    // Throws Error naming the file and the problem (see VocOptions::skip_bad).
    static VocDataset open(const std::string& path, const VocOptions& options = {});

    const std::string& root() const { return root_; }  // the VOC20XX-style folder
    const std::string& split() const { return split_; }
    const std::vector<std::string>& classes() const { return classes_; }
    const std::string& class_source() const { return class_source_; }  // where they came from

    std::size_t size() const { return items_.size(); }
    const Annotation& annotation(std::size_t i) const { return items_.at(i); }
    const std::string& image_path(std::size_t i) const { return image_paths_.at(i); }

    // Decodes image i; throws if it is unreadable, truncated or not the annotated size.
    Image load_image(std::size_t i) const;

    // With skip_bad: one line per skipped file or object, and the counts.
    const std::vector<std::string>& warnings() const { return warnings_; }
    int skipped_images() const { return skipped_images_; }
    int skipped_objects() const { return skipped_objects_; }
    // The closing line a command prints after the warnings, e.g. "[voc] --skip-bad: skipped
    // 2 of 1500 images and 1 object (3 warnings)"; "" when nothing was skipped.
    std::string skip_summary() const;

private:
    std::string root_, split_, class_source_;
    std::vector<std::string> classes_;
    std::vector<Annotation> items_;
    std::vector<std::string> image_paths_;
    std::vector<std::string> warnings_;
    int skipped_images_ = 0, skipped_objects_ = 0;
};

// The VOC20XX-style folder that `path` names: itself when it holds Annotations/, else
// path/VOC<year> (year 0 -> 2007), also under path/VOCdevkit/. Throws, listing what exists.
std::string resolve_voc_root(const std::string& path, int year = 0);

// The ids of a split file, in order: first token of each line, blank lines skipped, CRLF
// accepted. Throws on an empty file; duplicates throw, or with `skipped` are dropped and noted.
std::vector<std::string> read_split_file(const std::string& path, const std::string& source,
                                         std::vector<std::string>* skipped = nullptr);
// The same on the file's text (what read_split_file calls). Success guarantees at least one
// id; each id unique, a file name (not empty, ".", "..", no '/', '\\', NUL, space, tab, CR).
std::vector<std::string> parse_split_list(std::string_view text, const std::string& source,
                                          std::vector<std::string>* skipped = nullptr);

// The class list that VocOptions::classes names (see there); "auto" returns an empty list.
// `source` receives a one-line description such as "classes.txt (5 classes)".
std::vector<std::string> resolve_class_list(const std::string& spec, const std::string& root,
                                            std::string* source = nullptr);
// A class file's text (classes.txt): one name a line, trimmed; blank lines and lines that
// start with '#' skipped. Success guarantees a non-empty list of unique names, each non-empty,
// trimmed (no leading or trailing space, tab, CR), without '\n' or NUL. `where` labels errors.
std::vector<std::string> parse_class_list(std::string_view text, const std::string& where);
// A comma-separated list ("cat, dog"): names trimmed; the same guarantees, with ',' in
// place of '\n'.
std::vector<std::string> parse_class_names(std::string_view spec);

}  // namespace focal::data
