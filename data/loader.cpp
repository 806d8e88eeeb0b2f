#include "data/loader.h"

#include <algorithm>
#include <numeric>

#include "engine/error.h"

namespace focal::data {

Sample load_sample(const Dataset& dataset, std::size_t index, bool keep_difficult) {
    Sample s;
    s.image = dataset.load_image(index);
    s.source_width = s.image.width;
    s.source_height = s.image.height;
    for (const Object& o : dataset.annotation(index).objects) {
        if (o.difficult && !keep_difficult) continue;
        s.boxes.push_back(o.box);
        s.labels.push_back(o.label);
        s.difficult.push_back(o.difficult ? 1 : 0);
    }
    return s;
}

namespace {

// One image, augmented on its own (when enabled) and letterboxed.
Sample prepare_image(const Dataset& dataset, std::size_t index, const LoaderOptions& o, Rng& rng) {
    Sample s = load_sample(dataset, index, o.keep_difficult);
    if (!o.augment) {
        letterbox(s, o.image_size);
        return s;
    }
    // Geometry first, then the per-pixel work on the small letterboxed image (3-4x fewer
    // pixels than a VOC photo): flip and jitter there cost a third of what they would before.
    const bool crop = rng.chance(o.crop_probability), flip = rng.chance(o.flip_probability);
    if (crop) random_scale_crop(s, rng, o.crop);
    letterbox(s, o.image_size);
    if (flip) hflip(s);
    color_jitter(s, rng, o.jitter);
    return s;
}

}  // namespace

Sample prepare_sample(const Dataset& dataset, std::size_t index, const LoaderOptions& o, Rng& rng) {
    // Mosaic and mixup draw from the stream only when they are on, so that runs without them
    // see the same samples as before they existed.
    const bool mosaic_on = o.augment && o.mosaic_probability > 0, mixup_on = o.augment && o.mixup_probability > 0;
    if (!mosaic_on && !mixup_on) return prepare_image(dataset, index, o, rng);
    const std::size_t items = o.max_items > 0 ? std::min(o.max_items, dataset.size()) : dataset.size();
    const auto another = [&] { return std::size_t(rng.uniform_int(0, int(items) - 1)); };
    Sample s;
    if (mosaic_on && rng.chance(o.mosaic_probability)) {
        std::array<Sample, 4> parts;
        parts[0] = prepare_image(dataset, index, o, rng);
        for (std::size_t k = 1; k < parts.size(); ++k) parts[k] = prepare_image(dataset, another(), o, rng);
        s = mosaic(std::move(parts), o.image_size, rng, o.mosaic, o.crop);
    } else {
        s = prepare_image(dataset, index, o, rng);
    }
    if (mixup_on && rng.chance(o.mixup_probability))
        s = mixup(std::move(s), prepare_image(dataset, another(), o, rng), rng, o.mixup);
    return s;
}

int batch_image_size(const LoaderOptions& o, int epoch, std::size_t batch) {
    if (o.sizes.empty()) return o.image_size;
    // Its own stream, apart from the shuffle's and the images': mix_seed's third key.
    Rng rng(mix_seed(o.seed ^ 0x6d756c7469ull, std::uint64_t(epoch), batch));  // "multi"
    return o.sizes[std::size_t(rng.uniform_int(0, int(o.sizes.size()) - 1))];
}

Batch make_batch(const Dataset& dataset, const std::vector<std::size_t>& indices, const LoaderOptions& o, int epoch) {
    Batch batch;
    batch.n = int(indices.size());
    batch.h = batch.w = o.image_size;
    const std::size_t plane = std::size_t(3) * o.image_size * o.image_size;
    batch.images.resize(plane * indices.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
        const std::size_t index = indices[i];
        Rng rng(mix_seed(o.seed, std::uint64_t(epoch), index));
        Sample s = prepare_sample(dataset, index, o, rng);
        normalize_to_chw(s.image, batch.images.data() + i * plane, o.mean, o.std);
        const Annotation& a = dataset.annotation(index);
        batch.boxes.push_back(std::move(s.boxes));
        batch.labels.push_back(std::move(s.labels));
        batch.difficult.push_back(std::move(s.difficult));
        batch.ids.push_back(a.id);
        batch.indices.push_back(index);
        batch.frames.push_back(s.frame);
        batch.original_sizes.push_back({a.width, a.height});
    }
    return batch;
}

Loader::Loader(const Dataset& dataset, const LoaderOptions& options) : dataset_(dataset), options_(options) {
    check(options.batch_size > 0, "[loader] batch size must be positive, got ", options.batch_size);
    check(options.image_size > 0, "[loader] image size must be positive, got ", options.image_size);
    for (int size : options.sizes) check(size > 0, "[loader] multi-scale sizes must be positive, got ", size);
    check(options.workers >= 0, "[loader] workers must be >= 0, got ", options.workers);
    check(dataset.size() > 0, "[loader] the dataset is empty");
    check(options.shards >= 1 && options.shard >= 0 && options.shard < options.shards, "[loader] shard ", options.shard,
          " of ", options.shards, " does not exist");
    check(options.batch_size >= options.shards, "[loader] a batch of ", options.batch_size,
          " images cannot give each of ", options.shards, " shards one");
    options_.prefetch = std::max(1, options.prefetch);
}

Loader::~Loader() { stop_workers(); }

std::size_t Loader::items() const {
    return options_.max_items > 0 ? std::min(options_.max_items, dataset_.size()) : dataset_.size();
}

std::size_t Loader::batches_per_epoch() const {
    const std::size_t n = items(), b = std::size_t(options_.batch_size);
    const std::size_t last = n % b;  // images in a last, partial batch
    const bool keep_last = last > 0 && !options_.drop_last && last >= std::size_t(options_.shards);
    return n / b + (keep_last ? 1 : 0);
}

void Loader::stop_workers() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    can_work_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
}

void Loader::start_epoch(int epoch, std::size_t first_batch) {
    stop_workers();
    epoch_ = epoch;
    order_.resize(items());
    std::iota(order_.begin(), order_.end(), std::size_t(0));
    if (options_.shuffle && order_.size() > 1) {
        // Fisher-Yates with our own generator: std::shuffle's draws are implementation-defined.
        Rng rng(mix_seed(options_.seed, std::uint64_t(epoch), ~std::uint64_t(0)));
        for (std::size_t i = order_.size() - 1; i > 0; --i)
            std::swap(order_[i], order_[std::size_t(rng.uniform_int(0, int(i)))]);
    }
    num_batches_ = batches_per_epoch();
    check(first_batch <= num_batches_, "[loader] cannot start epoch ", epoch, " at batch ", first_batch, " of ",
          num_batches_);
    next_claim_ = next_yield_ = first_batch;
    ready_.clear();
    errors_.clear();
    stopping_ = false;
    for (int i = 0; i < options_.workers; ++i) workers_.emplace_back(&Loader::work, this);
}

Batch Loader::build(std::size_t b) const {
    const std::size_t begin = b * std::size_t(options_.batch_size);
    const std::size_t end = std::min(order_.size(), begin + std::size_t(options_.batch_size));
    const std::size_t n = end - begin, shards = std::size_t(options_.shards), shard = std::size_t(options_.shard);
    const std::vector<std::size_t> indices(order_.begin() + std::ptrdiff_t(begin + n * shard / shards),
                                           order_.begin() + std::ptrdiff_t(begin + n * (shard + 1) / shards));
    if (options_.sizes.empty()) return make_batch(dataset_, indices, options_, epoch_);
    LoaderOptions sized = options_;
    sized.image_size = batch_image_size(options_, epoch_, b);
    return make_batch(dataset_, indices, sized, epoch_);
}

void Loader::work() {
    while (true) {
        std::size_t b;
        {
            std::unique_lock lock(mutex_);
            can_work_.wait(lock, [&] {
                return stopping_ ||
                       (next_claim_ < num_batches_ && next_claim_ < next_yield_ + std::size_t(options_.prefetch));
            });
            if (stopping_) return;
            b = next_claim_++;
        }
        Batch batch;
        std::exception_ptr error;
        try {
            batch = build(b);
        } catch (...) {
            error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex_);
            if (error) errors_[b] = error;
            else ready_[b] = std::move(batch);
        }
        has_batch_.notify_all();
    }
}

bool Loader::next(Batch& batch) {
    check(epoch_ >= 0, "[loader] call start_epoch() before next()");
    if (next_yield_ >= num_batches_) return false;
    if (workers_.empty()) {
        batch = build(next_yield_++);
        return true;
    }
    std::exception_ptr error;
    {
        std::unique_lock lock(mutex_);
        has_batch_.wait(lock, [&] { return ready_.count(next_yield_) || errors_.count(next_yield_); });
        if (auto it = errors_.find(next_yield_); it != errors_.end()) {
            error = it->second;
            errors_.erase(it);
        } else {
            auto node = ready_.extract(next_yield_);
            batch = std::move(node.mapped());
        }
        ++next_yield_;
    }
    can_work_.notify_all();
    if (error) std::rethrow_exception(error);
    return true;
}

}  // namespace focal::data
