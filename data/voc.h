// A Pascal VOC-format dataset on disk: VOCdevkit/VOC20XX/{Annotations, JPEGImages,
// ImageSets/Main/<split>.txt}, or any folder laid out like VOC20XX (labelling-tool exports,
// `focal make-shapes`). Open it through Dataset::open (data/dataset.h), which calls read_voc.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "data/dataset.h"

namespace focal::data {

// The 20 Pascal VOC classes, in the devkit's order (label 0 = aeroplane).
const std::vector<std::string>& voc_classes();

// Reads a VOC-format dataset's split for Dataset::open (data/dataset.h): the split file (or
// every Annotations/*.xml for "all"), each annotation, the image it names, and the default
// class list (classes.txt beside Annotations/, else the 20 VOC classes).
DatasetParts read_voc(const std::string& path, const DatasetOptions& options);

// The VOC20XX-style folder that `path` names: itself when it holds Annotations/, else
// path/VOC<year> (year 0 -> 2007), also under path/VOCdevkit/. Throws, listing what exists.
std::string resolve_voc_root(const std::string& path, int year = 0);

// The split names under root/ImageSets/Main (per-class files such as dog_train.txt left out).
std::vector<std::string> voc_splits(const std::string& root);

// The ids of a split file, in order: first token of each line, blank lines skipped, CRLF
// accepted. Throws on an empty file; duplicates throw, or with `skipped` are dropped and noted.
std::vector<std::string> read_split_file(const std::string& path, const std::string& source,
                                         std::vector<std::string>* skipped = nullptr);
// The same on the file's text (what read_split_file calls). Success guarantees at least one
// id; each id unique, a file name (not empty, ".", "..", no '/', '\\', NUL, space, tab, CR).
std::vector<std::string> parse_split_list(std::string_view text, const std::string& source,
                                          std::vector<std::string>* skipped = nullptr);

// The class list that DatasetOptions::classes names (see there); "auto" returns an empty list.
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
