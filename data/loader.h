// Batches for the trainer: worker threads decode and augment ahead of it through a bounded
// queue. What batch b of epoch e holds depends only on (seed, e, b), never on thread timing:
// the order is a seeded shuffle, each sample draws from its own seeded stream, and batches
// are handed out in index order.
#pragma once
#include <array>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/mosaic.h"
#include "data/transforms.h"

namespace focal::data {

struct LoaderOptions {
    int batch_size = 8;
    int image_size = 256;  // letterboxed to image_size x image_size
    // Multi-scale training (as YOLO's): when not empty, each batch's size is drawn from these
    // by (seed, epoch, batch), the same on every data-parallel rank; image_size is unused.
    std::vector<int> sizes;
    bool shuffle = true;
    bool drop_last = false;
    bool augment = true;  // colour jitter, scale-crop and flip; false = letterbox only (eval)
    float crop_probability = 0.5f;
    float flip_probability = 0.5f;
    ScaleCropOptions crop;
    JitterOptions jitter;
    // Samples made of several images (data/mosaic.h), when augmenting: the chance that a
    // sample is a mosaic of itself and 3 others, then the chance that it is blended with one
    // more. Each other image is drawn by the sample's own stream and augmented alone.
    float mosaic_probability = 0.0f;
    float mixup_probability = 0.0f;
    MosaicOptions mosaic;
    MixupOptions mixup;
    bool keep_difficult = true;  // false drops 'difficult' objects from the targets
    std::size_t max_items = 0;   // > 0: only the dataset's first max_items items (smoke runs)
    std::uint64_t seed = 0;
    // Data-parallel training (detector/data_parallel.h): each batch is the global batch, of
    // which this loader keeps shard `shard` of `shards`, images [n shard / shards,
    // n (shard + 1) / shards) of its n. The shards of one batch are disjoint and together are
    // exactly the batch one loader with shards = 1 gives. With several shards a last batch
    // with fewer images than shards is dropped, so no shard is ever empty.
    int shard = 0, shards = 1;
    int workers = 2;   // threads; 0 = load on the calling thread
    int prefetch = 4;  // batches prepared ahead at most (the queue bound)
    std::array<float, 3> mean = kImageNetMean, std = kImageNetStd;
};

// Plain arrays; the detector turns them into tensors.
struct Batch {
    int n = 0, c = 3, h = 0, w = 0;
    std::vector<float> images;             // (N, 3, H, W), normalised
    std::vector<std::vector<Box>> boxes;   // per image, in batch pixel coordinates
    std::vector<std::vector<int>> labels;  // per image, 0..K-1
    std::vector<std::vector<std::uint8_t>> difficult;
    std::vector<std::string> ids;
    std::vector<std::size_t> indices;                // dataset indices
    std::vector<Frame> frames;                       // original image -> batch coordinates
    std::vector<std::array<int, 2>> original_sizes;  // (width, height)
};

// The image and targets of dataset item `index`, before any transform.
Sample load_sample(const Dataset& dataset, std::size_t index, bool keep_difficult = true);

// One sample as the loader prepares it: augment (when enabled), letterbox; with mosaic or
// mixup on, several images, the others drawn among the first max_items (or all) of the set.
Sample prepare_sample(const Dataset& dataset, std::size_t index, const LoaderOptions& options, Rng& rng);

// The size of batch `batch` of epoch `epoch`: image_size, or with multi-scale one of sizes.
int batch_image_size(const LoaderOptions& options, int epoch, std::size_t batch);

// The batch of the given dataset indices; item i draws from Rng(mix_seed(seed, epoch, i)).
Batch make_batch(const Dataset& dataset, const std::vector<std::size_t>& indices, const LoaderOptions& options,
                 int epoch);

class Loader {
public:
    // `dataset` must outlive the loader.
    Loader(const Dataset& dataset, const LoaderOptions& options);
    ~Loader();
    Loader(const Loader&) = delete;
    Loader& operator=(const Loader&) = delete;

    std::size_t items() const;  // items per epoch (the dataset, or its first max_items)
    std::size_t batches_per_epoch() const;
    // Begins epoch `epoch` (its order is shuffle(seed, epoch)) at batch `first_batch` (> 0
    // when resuming mid-epoch: the batches before it are skipped, not built); drops what an
    // earlier epoch left unread.
    void start_epoch(int epoch, std::size_t first_batch = 0);
    // The next batch of the epoch, false once it is exhausted. A worker's error (an unreadable
    // image, say) is rethrown here, for the batch it hit.
    bool next(Batch& batch);

private:
    void stop_workers();
    void work();
    Batch build(std::size_t b) const;

    const Dataset& dataset_;
    LoaderOptions options_;
    int epoch_ = -1;
    std::vector<std::size_t> order_;
    std::size_t num_batches_ = 0;

    std::mutex mutex_;
    std::condition_variable can_work_, has_batch_;
    std::size_t next_claim_ = 0, next_yield_ = 0;
    std::map<std::size_t, Batch> ready_;
    std::map<std::size_t, std::exception_ptr> errors_;
    bool stopping_ = false;
    std::vector<std::thread> workers_;
};

}  // namespace focal::data
