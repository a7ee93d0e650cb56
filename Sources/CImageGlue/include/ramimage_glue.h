// Minimal C glue around libjpeg-turbo and libpng for RAMImage.
//
// Both libraries report fatal errors through a callback that must not return (libjpeg's
// error_exit calls exit() by default; libpng longjmps). Swift cannot use setjmp/longjmp, so the
// decoders live here: each installs an error handler that longjmps back into the decoder, which
// then returns an error code and a message instead of ending the process.
#ifndef RAMIMAGE_GLUE_H
#define RAMIMAGE_GLUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes.
enum {
    RAMIMG_OK = 0,
    RAMIMG_ERROR = 1,      ///< corrupt / unsupported data; `message` says why
    RAMIMG_TOO_LARGE = 2,  ///< width*height over the caller's pixel limit (nothing decoded)
    RAMIMG_TRUNCATED = 3,  ///< the data ended before the image did
    RAMIMG_NOMEM = 4,
};

/// Colour model of `pixels`.
enum {
    RAMIMG_GRAY = 1,   ///< 1 channel
    RAMIMG_RGB = 3,    ///< 3 channels
    RAMIMG_CMYK = 4,   ///< 4 channels, as libjpeg returns them (Adobe files: inverted)
    RAMIMG_GRAYA = 2,  ///< PNG gray + alpha
    RAMIMG_RGBA = 5,   ///< PNG RGBA (4 channels)
    RAMIMG_YCCK = 6,   ///< encoding only: CMYK input stored as YCCK (Adobe transform 2)
};

typedef struct {
    uint8_t *pixels;      ///< height*width*channels bytes, malloc'd; free with ramimg_free
    int width;
    int height;
    int channels;
    int color;            ///< one of RAMIMG_GRAY / RGB / CMYK / GRAYA / RGBA
    int bit_depth;        ///< the file's bit depth (PNG); 8 for JPEG
    int png_color_type;   ///< the file's PNG colour type, -1 for JPEG
    uint8_t *exif;        ///< the EXIF payload (TIFF header onwards), malloc'd, or NULL
    size_t exif_size;
    char message[200];    ///< set when the result code is not RAMIMG_OK
} ramimg_result;

/// Decodes a baseline / progressive JPEG (gray, YCbCr, RGB, CMYK, YCCK) from memory.
/// `max_pixels` <= 0 disables the limit. ISLOW IDCT, fancy upsampling (libjpeg defaults, as
/// Pillow uses them).
int ramimg_decode_jpeg(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out);

/// The same in two steps, so the caller can give the pixel buffer (no copy):
/// `ramimg_jpeg_open` reads the header (size check, EXIF, colour model; progressive files are
/// read whole) and fills width / height / channels / color / exif of `out`; on RAMIMG_OK,
/// `*handle` must then go to `ramimg_jpeg_read` (which decodes all rows into `dst`,
/// height*width*channels bytes, and always releases the handle) or `ramimg_jpeg_close`.
typedef struct ramimg_jpeg ramimg_jpeg;
int ramimg_jpeg_open(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out,
                     ramimg_jpeg **handle);
int ramimg_jpeg_read(ramimg_jpeg *handle, uint8_t *dst, size_t dst_size, ramimg_result *out);
void ramimg_jpeg_close(ramimg_jpeg *handle);

/// Decodes a PNG of any colour type / bit depth / interlace from memory to 8 bits per channel:
/// palette expanded to RGB (or RGBA when it has tRNS), gray < 8 bits scaled up, 16-bit reduced
/// to the high byte. No gamma is applied (Pillow applies none).
int ramimg_decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out);

/// Frees the buffers of a result (safe on a zeroed / failed result).
void ramimg_free(ramimg_result *r);

/// Encoders used by tests (and handy for tools): write to a malloc'd buffer.
/// color: RAMIMG_GRAY, RAMIMG_RGB, RAMIMG_CMYK or RAMIMG_YCCK (CMYK written with an Adobe marker, inverted values
/// expected from the caller as libjpeg writes them). Returns RAMIMG_OK or an error code.
int ramimg_encode_jpeg(const uint8_t *pixels, int width, int height, int color, int quality,
                       int progressive, const uint8_t *exif, size_t exif_size,
                       uint8_t **out, size_t *out_size, char *message, size_t message_size);

/// color_type: PNG_COLOR_TYPE_* (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA); bit_depth 1..16;
/// `rows` holds the packed rows exactly as PNG stores them (16-bit big endian).
/// palette: n*3 bytes; trns: palette alphas (n_trns entries) or NULL.
int ramimg_encode_png(const uint8_t *rows, int width, int height, int color_type, int bit_depth,
                      int interlace, const uint8_t *palette, int n_palette, const uint8_t *trns, int n_trns,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size);

void ramimg_free_buffer(void *p);

#ifdef __cplusplus
}
#endif
#endif
