// RGB image -> normalised float32 CHW tensor, reproducing Hugging Face's CLIPImageProcessor /
// SiglipImageProcessor (PIL backend) numerically:
//   resize (Pillow Image.resize, bit-exact, see resample.h)
//   -> center crop (top = (h - crop_h) // 2, left = (w - crop_w) // 2; zero padding where the
//      image is smaller than the crop, as transformers.image_transforms.center_crop does)
//   -> rescale: float32(float64(x) * rescale_factor)
//   -> normalise: (x - float32(mean)) / float32(std) in float32.
// Only the cropped window of the resized image is ever computed. The per-channel rescale +
// normalise of a uint8 value is exact IEEE arithmetic done once per possible value (a 256-entry
// table), so the output is bit-identical to numpy's.
#pragma once

#include "image/decoded_image.h"
#include "image/preprocess_config.h"

namespace crossmodal::image {

// `rgb` must be a 3-channel image. Writes 3 * H * W floats (planar R, G, B) to out_chw, where
// (W, H) = cfg.OutputSizeFor(rgb.width, rgb.height). Thread-safe; throws crossmodal::Error
// (ERR_INVALID_ARGUMENT for a malformed image or null output).
void PreprocessRgbToTensor(const DecodedImage& rgb, const PreprocessConfig& cfg, float* out_chw);

}  // namespace crossmodal::image
