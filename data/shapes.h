// The synthetic "shapes" dataset, written in VOC format: five classes of filled shapes
// (circle, square, triangle, star, cross) in random colours, 6 px to half the image, on
// cluttered textured backgrounds, among distractors that resemble them but are not objects
// (ellipses, bars, hexagons, hollow outlines): the hard negatives of dense detection.
// Classes are mildly imbalanced (30/25/20/15/10 %), about 8 % of images hold no object,
// objects under 8 px are marked difficult, and objects cut by the border truncated.
// Image i depends only on (seed, i, size): the same seed gives byte-identical files.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/image.h"
#include "data/voc_annotation.h"

namespace focal::data {

const std::vector<std::string>& shape_classes();

struct ShapesOptions {
    int images = 2000;
    int size = 128;  // square images, size x size
    std::uint64_t seed = 0;
    int min_object = 6;       // px, the smallest object extent
    int max_object = 0;       // px, the largest object and distractor extent; 0 = size / 2. Set to
                              // the smaller set's size / 2, a larger image holds the same objects
                              // in more background (the imbalance sweep of `focal experiments`)
    int max_objects = 6;      // per image
    int max_distractors = 5;  // per image
    int jpeg_quality = 90;
    int threads = 0;  // 0 = all cores (the files do not depend on it)
};

struct Scene {
    Image image;
    Annotation annotation;  // labels set (index into shape_classes())
    int distractors = 0;
};

// Scene number `index` of the dataset that `options` describes.
Scene make_shape_scene(const ShapesOptions& options, int index);
// The checks make_shape_scene makes on `options` (size 32..4096, min_object 2..size/2,
// max_object 0 or min_object..size/2).
void check_scene_options(const ShapesOptions& options);

// focal-shapes.txt, the marker of a generated set: "generator focal make-shapes 1", then one
// "key value" line each for images, size, seed and min_object, and max_object when it is set.
std::string shapes_marker_text(const ShapesOptions& options);
// Reads a marker's text back (`name` labels errors). Success guarantees each of the four
// keys exactly once (max_object at most once), in range (images >= 1, and what check_scene_options accepts), so the
// scenes can be regenerated; anything else throws, naming the line.
ShapesOptions parse_shapes_marker(std::string_view text, const std::string& name);

struct ShapesSummary {
    int images = 0, objects = 0, distractors = 0, empty_images = 0, difficult = 0;
    std::vector<int> per_class;
    std::vector<int> split_sizes;  // train, val, test
};

// Writes DIR/{JPEGImages, Annotations, ImageSets/Main/{train,val,trainval,test}.txt,
// classes.txt, focal-shapes.txt}: 60 % train, 20 % val, 20 % test. A folder that holds
// anything but an earlier shapes set (marked by focal-shapes.txt) is refused, not overwritten.
ShapesSummary write_shapes_dataset(const std::string& dir, const ShapesOptions& options);

}  // namespace focal::data
