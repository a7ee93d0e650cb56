// C glue for RAMImage: libjpeg-turbo / libpng with non-exiting error handling (setjmp/longjmp
// stays inside this file). See include/ramimage_glue.h.
#include "ramimage_glue.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

static void set_message(char *dst, size_t cap, const char *text) {
    if (!dst || cap == 0) return;
    snprintf(dst, cap, "%s", text ? text : "");
}

void ramimg_free(ramimg_result *r) {
    if (!r) return;
    free(r->pixels);
    r->pixels = NULL;
    free(r->exif);
    r->exif = NULL;
    r->exif_size = 0;
}

void ramimg_free_buffer(void *p) { free(p); }

static int too_large(int64_t w, int64_t h, int64_t max_pixels) {
    if (max_pixels <= 0 || w <= 0 || h <= 0) return 0;
    return h > max_pixels / w || w * h > max_pixels;   // no overflow for w, h < 2^32
}

// ---------------------------------------------------------------- JPEG

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int saw_eof;
} glue_jpeg_error;

static void glue_jpeg_error_exit(j_common_ptr cinfo) {
    glue_jpeg_error *err = (glue_jpeg_error *)cinfo->err;
    longjmp(err->jump, 1);
}

static void glue_jpeg_emit_message(j_common_ptr cinfo, int level) {
    glue_jpeg_error *err = (glue_jpeg_error *)cinfo->err;
    if (level < 0 && err->pub.msg_code == JWRN_JPEG_EOF) err->saw_eof = 1;
    // Other warnings (corrupt data that libjpeg recovers from) are ignored, as Pillow does.
}

static void glue_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

struct ramimg_jpeg {
    struct jpeg_decompress_struct cinfo;
    glue_jpeg_error jerr;
};

static void jpeg_message(ramimg_jpeg *j, char *dst, size_t cap) {
    char buffer[JMSG_LENGTH_MAX];
    (*j->cinfo.err->format_message)((j_common_ptr)&j->cinfo, buffer);
    set_message(dst, cap, buffer);
}

void ramimg_jpeg_close(ramimg_jpeg *j) {
    if (!j) return;
    jpeg_destroy_decompress(&j->cinfo);
    free(j);
}

int ramimg_jpeg_open(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out,
                     ramimg_jpeg **handle) {
    memset(out, 0, sizeof(*out));
    out->png_color_type = -1;
    *handle = NULL;
    if (size == 0) {
        set_message(out->message, sizeof(out->message), "empty data");
        return RAMIMG_ERROR;
    }
    ramimg_jpeg *j = calloc(1, sizeof(ramimg_jpeg));
    if (!j) {
        set_message(out->message, sizeof(out->message), "out of memory");
        return RAMIMG_NOMEM;
    }
    j->cinfo.err = jpeg_std_error(&j->jerr.pub);
    j->jerr.pub.error_exit = glue_jpeg_error_exit;
    j->jerr.pub.emit_message = glue_jpeg_emit_message;
    j->jerr.pub.output_message = glue_jpeg_output_message;
    if (setjmp(j->jerr.jump)) {
        jpeg_message(j, out->message, sizeof(out->message));
        int code = j->jerr.saw_eof ? RAMIMG_TRUNCATED : RAMIMG_ERROR;
        ramimg_jpeg_close(j);
        ramimg_free(out);
        return code;
    }
    jpeg_create_decompress(&j->cinfo);
    jpeg_mem_src(&j->cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_save_markers(&j->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&j->cinfo, TRUE);
    if (j->jerr.saw_eof) {
        set_message(out->message, sizeof(out->message), "the data ends inside the JPEG header");
        ramimg_jpeg_close(j);
        return RAMIMG_TRUNCATED;
    }
    struct jpeg_decompress_struct *cinfo = &j->cinfo;
    if (too_large(cinfo->image_width, cinfo->image_height, max_pixels)) {
        out->width = (int)cinfo->image_width;
        out->height = (int)cinfo->image_height;
        snprintf(out->message, sizeof(out->message), "%u x %u = %lld pixels is over the limit of %lld",
                 cinfo->image_width, cinfo->image_height,
                 (long long)cinfo->image_width * (long long)cinfo->image_height, (long long)max_pixels);
        ramimg_jpeg_close(j);
        return RAMIMG_TOO_LARGE;
    }
    // EXIF (APP1 "Exif\0\0" + TIFF structure)
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            size_t n = m->data_length - 6;
            out->exif = malloc(n);
            if (out->exif) {
                memcpy(out->exif, m->data + 6, n);
                out->exif_size = n;
            }
            break;
        }
    }
    switch (cinfo->jpeg_color_space) {
        case JCS_GRAYSCALE:
            cinfo->out_color_space = JCS_GRAYSCALE;
            out->color = RAMIMG_GRAY;
            break;
        case JCS_CMYK:
        case JCS_YCCK:
            cinfo->out_color_space = JCS_CMYK;
            out->color = RAMIMG_CMYK;
            break;
        default:
            cinfo->out_color_space = JCS_RGB;
            out->color = RAMIMG_RGB;
            break;
    }
    // (progressive files are read whole here)
    jpeg_start_decompress(cinfo);
    out->width = (int)cinfo->output_width;
    out->height = (int)cinfo->output_height;
    out->channels = cinfo->output_components;
    out->bit_depth = 8;
    *handle = j;
    return RAMIMG_OK;
}

int ramimg_jpeg_read(ramimg_jpeg *j, uint8_t *dst, size_t dst_size, ramimg_result *out) {
    struct jpeg_decompress_struct *cinfo = &j->cinfo;
    size_t stride = (size_t)cinfo->output_width * (size_t)cinfo->output_components;
    if (dst_size < stride * (size_t)cinfo->output_height) {
        set_message(out->message, sizeof(out->message), "destination buffer too small");
        ramimg_jpeg_close(j);
        return RAMIMG_ERROR;
    }
    if (setjmp(j->jerr.jump)) {
        jpeg_message(j, out->message, sizeof(out->message));
        int code = j->jerr.saw_eof ? RAMIMG_TRUNCATED : RAMIMG_ERROR;
        ramimg_jpeg_close(j);
        return code;
    }
    if (!j->jerr.saw_eof) {
        while (cinfo->output_scanline < cinfo->output_height) {
            JSAMPROW row = dst + (size_t)cinfo->output_scanline * stride;
            jpeg_read_scanlines(cinfo, &row, 1);
            if (j->jerr.saw_eof) break;
        }
    }
    if (j->jerr.saw_eof) {
        snprintf(out->message, sizeof(out->message),
                 "the data ends before the image does (decoded %u of %u rows)",
                 cinfo->output_scanline, cinfo->output_height);
        ramimg_jpeg_close(j);
        return RAMIMG_TRUNCATED;
    }
    // Every row is decoded: anything after the last scan (EOI, trailing junk) is not needed, so
    // the file is not read further.
    jpeg_abort_decompress(cinfo);
    ramimg_jpeg_close(j);
    return RAMIMG_OK;
}

int ramimg_decode_jpeg(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out) {
    ramimg_jpeg *j = NULL;
    int code = ramimg_jpeg_open(data, size, max_pixels, out, &j);
    if (code != RAMIMG_OK) return code;
    size_t n = (size_t)out->width * (size_t)out->height * (size_t)out->channels;
    uint8_t *pixels = malloc(n ? n : 1);
    if (!pixels) {
        ramimg_jpeg_close(j);
        ramimg_free(out);
        set_message(out->message, sizeof(out->message), "out of memory");
        return RAMIMG_NOMEM;
    }
    code = ramimg_jpeg_read(j, pixels, n, out);
    if (code != RAMIMG_OK) {
        free(pixels);
        ramimg_free(out);
        return code;
    }
    out->pixels = pixels;
    return RAMIMG_OK;
}

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} glue_jpeg_cerror;

static void glue_jpeg_cerror_exit(j_common_ptr cinfo) {
    glue_jpeg_cerror *err = (glue_jpeg_cerror *)cinfo->err;
    longjmp(err->jump, 1);
}

int ramimg_encode_jpeg(const uint8_t *pixels, int width, int height, int color, int quality,
                       int progressive, const uint8_t *exif, size_t exif_size,
                       uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    struct jpeg_compress_struct cinfo;
    glue_jpeg_cerror jerr;
    unsigned char *volatile buffer = NULL;
    unsigned long buffer_size = 0;
    *out = NULL;
    *out_size = 0;
    memset(&cinfo, 0, sizeof(cinfo));
    cinfo.err = jpeg_std_error(&jerr.pub);
    jerr.pub.error_exit = glue_jpeg_cerror_exit;
    jerr.pub.output_message = glue_jpeg_output_message;
    if (setjmp(jerr.jump)) {
        char text[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, text);
        set_message(message, message_size, text);
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return RAMIMG_ERROR;
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, (unsigned char **)&buffer, &buffer_size);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    int channels;
    switch (color) {
        case RAMIMG_GRAY: cinfo.in_color_space = JCS_GRAYSCALE; channels = 1; break;
        case RAMIMG_CMYK:
        case RAMIMG_YCCK: cinfo.in_color_space = JCS_CMYK; channels = 4; break;
        default: cinfo.in_color_space = JCS_RGB; channels = 3; break;
    }
    cinfo.input_components = channels;
    jpeg_set_defaults(&cinfo);
    if (color == RAMIMG_YCCK) jpeg_set_colorspace(&cinfo, JCS_YCCK);
    jpeg_set_quality(&cinfo, quality, TRUE);
    if (progressive) jpeg_simple_progression(&cinfo);
    jpeg_start_compress(&cinfo, TRUE);
    if (exif && exif_size > 0 && exif_size < 65000) {
        unsigned char *payload = malloc(exif_size + 6);
        if (payload) {
            memcpy(payload, "Exif\0\0", 6);
            memcpy(payload + 6, exif, exif_size);
            jpeg_write_marker(&cinfo, JPEG_APP0 + 1, payload, (unsigned int)(exif_size + 6));
            free(payload);
        }
    }
    size_t stride = (size_t)width * (size_t)channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *out_size = buffer_size;
    return RAMIMG_OK;
}

// ---------------------------------------------------------------- PNG

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
    int past_end;
    char *message;
    size_t message_size;
} glue_png_reader;

static void glue_png_read(png_structp png, png_bytep dst, size_t length) {
    glue_png_reader *r = (glue_png_reader *)png_get_io_ptr(png);
    if (length > r->size - r->pos) {
        r->past_end = 1;
        png_error(png, "the data ends before the image does");
    }
    memcpy(dst, r->data + r->pos, length);
    r->pos += length;
}

static void glue_png_error(png_structp png, png_const_charp text) {
    glue_png_reader *r = (glue_png_reader *)png_get_error_ptr(png);
    if (r && r->message && !r->message[0]) set_message(r->message, r->message_size, text);
    png_longjmp(png, 1);
}

static void glue_png_warning(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

int ramimg_decode_png(const uint8_t *data, size_t size, int64_t max_pixels, ramimg_result *out) {
    memset(out, 0, sizeof(*out));
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        set_message(out->message, sizeof(out->message), "not a PNG signature");
        return RAMIMG_ERROR;
    }
    // The size check comes straight from the IHDR bytes (the first chunk, at offset 8), so a
    // bomb is refused even when the rest of the file is missing.
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        int64_t w0 = ((int64_t)data[16] << 24) | (data[17] << 16) | (data[18] << 8) | data[19];
        int64_t h0 = ((int64_t)data[20] << 24) | (data[21] << 16) | (data[22] << 8) | data[23];
        if (too_large(w0, h0, max_pixels)) {
            out->width = (int)(w0 > 0x7FFFFFFF ? 0x7FFFFFFF : w0);
            out->height = (int)(h0 > 0x7FFFFFFF ? 0x7FFFFFFF : h0);
            snprintf(out->message, sizeof(out->message), "%lld x %lld pixels is over the limit of %lld",
                     (long long)w0, (long long)h0, (long long)max_pixels);
            return RAMIMG_TOO_LARGE;
        }
    }
    glue_png_reader reader = {data, size, 0, 0, out->message, sizeof(out->message)};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, glue_png_error,
                                             glue_png_warning);
    if (!png) {
        set_message(out->message, sizeof(out->message), "png_create_read_struct failed");
        return RAMIMG_NOMEM;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(out->message, sizeof(out->message), "png_create_info_struct failed");
        return RAMIMG_NOMEM;
    }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    volatile int status = RAMIMG_ERROR;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        ramimg_free(out);
        if (status == RAMIMG_ERROR && reader.past_end) return RAMIMG_TRUNCATED;
        return status;
    }
    png_set_read_fn(png, &reader, glue_png_read);
    // Pillow enforces no chunk-size limit below libpng's defaults; keep libpng's own limits.
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    out->bit_depth = bit_depth;
    out->png_color_type = color_type;
    if (too_large(w, h, max_pixels)) {
        out->width = (int)w;
        out->height = (int)h;
        snprintf(out->message, sizeof(out->message), "%u x %u = %lld pixels is over the limit of %lld",
                 w, h, (long long)w * (long long)h, (long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return RAMIMG_TOO_LARGE;
    }
#ifdef PNG_eXIf_SUPPORTED
    {
        png_uint_32 n = 0;
        png_bytep exif = NULL;
        if (png_get_eXIf_1(png, info, &n, &exif) != 0 && exif && n > 0) {
            out->exif = malloc(n);
            if (out->exif) {
                memcpy(out->exif, exif, n);
                out->exif_size = n;
            }
        }
    }
#endif
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if (stride != (size_t)w * (size_t)channels) {
        set_message(out->message, sizeof(out->message), "unexpected row size after transforms");
        png_error(png, "unexpected row size after transforms");
    }
    pixels = malloc(stride * (size_t)h);
    rows = malloc(sizeof(png_bytep) * (size_t)h);
    if (!pixels || !rows) {
        status = RAMIMG_NOMEM;
        set_message(out->message, sizeof(out->message), "out of memory");
        png_error(png, "out of memory");
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * stride;
    png_read_image(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    out->pixels = pixels;
    out->width = (int)w;
    out->height = (int)h;
    out->channels = channels;
    switch (channels) {
        case 1: out->color = RAMIMG_GRAY; break;
        case 2: out->color = RAMIMG_GRAYA; break;
        case 3: out->color = RAMIMG_RGB; break;
        default: out->color = RAMIMG_RGBA; break;
    }
    return RAMIMG_OK;
}

typedef struct {
    uint8_t *data;
    size_t size;
    size_t cap;
    int failed;
} glue_png_writer;

static void glue_png_write(png_structp png, png_bytep src, size_t length) {
    glue_png_writer *w = (glue_png_writer *)png_get_io_ptr(png);
    if (w->size + length > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        while (cap < w->size + length) cap *= 2;
        uint8_t *p = realloc(w->data, cap);
        if (!p) {
            w->failed = 1;
            png_error(png, "out of memory");
        }
        w->data = p;
        w->cap = cap;
    }
    memcpy(w->data + w->size, src, length);
    w->size += length;
}

static void glue_png_flush(png_structp png) { (void)png; }

typedef struct {
    char *message;
    size_t message_size;
} glue_png_wctx;

static void glue_png_werror(png_structp png, png_const_charp text) {
    glue_png_wctx *c = (glue_png_wctx *)png_get_error_ptr(png);
    if (c) set_message(c->message, c->message_size, text);
    png_longjmp(png, 1);
}

int ramimg_encode_png(const uint8_t *rows_data, int width, int height, int color_type, int bit_depth,
                      int interlace, const uint8_t *palette, int n_palette, const uint8_t *trns, int n_trns,
                      uint8_t **out, size_t *out_size, char *message, size_t message_size) {
    *out = NULL;
    *out_size = 0;
    glue_png_wctx ctx = {message, message_size};
    glue_png_writer writer = {NULL, 0, 0, 0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ctx, glue_png_werror,
                                              glue_png_warning);
    if (!png) return RAMIMG_NOMEM;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return RAMIMG_NOMEM;
    }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(writer.data);
        return RAMIMG_ERROR;
    }
    png_set_write_fn(png, &writer, glue_png_write, glue_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE && palette && n_palette > 0) {
        png_color pal[256];
        for (int i = 0; i < n_palette && i < 256; i++) {
            pal[i].red = palette[i * 3];
            pal[i].green = palette[i * 3 + 1];
            pal[i].blue = palette[i * 3 + 2];
        }
        png_set_PLTE(png, info, pal, n_palette);
        if (trns && n_trns > 0) png_set_tRNS(png, info, trns, n_trns, NULL);
    }
    png_write_info(png, info);
    if (interlace) png_set_interlace_handling(png);
    size_t stride = png_get_rowbytes(png, info);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)(rows_data + (size_t)y * stride);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *out = writer.data;
    *out_size = writer.size;
    return RAMIMG_OK;
}
