/* The loader's compiled loops: the window of an image, mirrored or not, minus the mean's
 * window, times a scale, written in one pass over the float32 output; and the same window as
 * uint8 planes.
 *
 * NumPy needs three passes over that output for the same result (cast, subtract, scale), each
 * reading and writing 618 KB for a 227x227 RGB crop; these loops read the uint8 window and the
 * mean once and write once (measured: benchmarks/RESULTS.md, 2026-12-03). Each element is
 * ((float)pixel - mean) * scale: the two roundings of mlimages.loader.transforms.normalize in
 * the same order, so the same bits (the tests compare them).
 *
 * Two layouts of the image are read: uint8 planes (C, H, W), as the cache stores them, and
 * Pillow's own pixels as it decoded them, 4 bytes each (R, G, B, padding), reached without a
 * copy through the Arrow C data interface that Pillow >= 11.2 exports: the step from Pillow's
 * pixels to planes (~35 us a 256x256 image) is then skipped. The pixels are read as 32-bit
 * words, one channel a shift, which the compiler vectorizes (strided byte reads it does not).
 *
 * mlimages/loader/native.py calls these functions through ctypes after checking every shape,
 * stride and bound; the module itself is empty, so importing it is harmless. Built by
 * setuptools as an optional extension: without a C compiler the package installs without it
 * and the NumPy path runs.
 */
#define Py_LIMITED_API 0x030B0000
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>  /* strcmp */

/* GCC on x86-64: one copy of the loop per instruction set, chosen when the library loads
 * (SSE2 converts bytes to floats in several steps; SSE4.1 and AVX2 in one). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx2", "arch=x86-64-v2", "default")))
#else
#define CLONES
#endif

/* out[c][y][x] = (image[c][top + y][flip ? width - 1 - left - x : left + x]
 *                 - mean[c][top + y][left + x]) * scale
 * image: uint8, element strides (image_c, image_row, 1); mean: float32, element strides
 * (mean_c, mean_row, mean_col), mean_row = mean_col = 0 for one value per channel;
 * out: float32 (channels, crop, crop), C-contiguous. */
CLONES void mlimages_place(float *restrict out, const uint8_t *restrict image,
                           ptrdiff_t image_c, ptrdiff_t image_row, ptrdiff_t width,
                           const float *restrict mean,
                           ptrdiff_t mean_c, ptrdiff_t mean_row, ptrdiff_t mean_col,
                           int channels, int crop, int top, int left, int flip, float scale)
{
    for (int c = 0; c < channels; c++) {
        for (int y = 0; y < crop; y++) {
            const uint8_t *row = image + c * image_c + (ptrdiff_t)(top + y) * image_row;
            const float *m = mean + c * mean_c + (ptrdiff_t)(top + y) * mean_row
                             + left * mean_col;
            float *o = out + ((ptrdiff_t)c * crop + y) * crop;
            const uint8_t *forward = row + left, *backward = row + (width - 1 - left);
            if (mean_col && !flip) {
                for (int x = 0; x < crop; x++) o[x] = ((float)forward[x] - m[x]) * scale;
            } else if (mean_col) {
                for (int x = 0; x < crop; x++) o[x] = ((float)backward[-x] - m[x]) * scale;
            } else if (!flip) {
                for (int x = 0; x < crop; x++) o[x] = ((float)forward[x] - m[0]) * scale;
            } else {
                for (int x = 0; x < crop; x++) o[x] = ((float)backward[-x] - m[0]) * scale;
            }
        }
    }
}

/* The two structures of the Arrow C data interface (arrow.apache.org/docs/format/
 * CDataInterface.html), a stable ABI: what Pillow's __arrow_c_schema__ and __arrow_c_array__
 * capsules hold. */
struct ArrowSchema {
    const char *format;
    const char *name;
    const char *metadata;
    int64_t flags;
    int64_t n_children;
    struct ArrowSchema **children;
    struct ArrowSchema *dictionary;
    void (*release)(struct ArrowSchema *);
    void *private_data;
};

struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};

/* The first byte of an image's pixels exported by Pillow as `pixels` fixed-size lists of 4
 * uint8 ("+w:4" of "C": an RGB image, its rows in one block), or NULL when the export is
 * anything else (another layout, an offset, nulls, pixels not aligned to 4 bytes). */
const uint8_t *mlimages_arrow_pixels(const struct ArrowSchema *schema,
                                     const struct ArrowArray *array, int64_t pixels)
{
    if (!schema || !array || !schema->format || strcmp(schema->format, "+w:4") != 0
        || schema->n_children != 1 || !schema->children || !schema->children[0]
        || !schema->children[0]->format || strcmp(schema->children[0]->format, "C") != 0)
        return NULL;
    if (array->length != pixels || array->offset != 0 || array->null_count != 0
        || array->n_children != 1 || !array->children || !array->children[0])
        return NULL;
    const struct ArrowArray *bytes = array->children[0];
    if (bytes->length != 4 * pixels || bytes->offset != 0 || bytes->null_count != 0
        || bytes->n_buffers != 2 || !bytes->buffers || !bytes->buffers[1])
        return NULL;
    const uint8_t *first = bytes->buffers[1];
    return ((uintptr_t)first % 4 == 0) ? first : NULL;
}

/* A 4-byte pixel read as one 32-bit word: GCC vectorizes loads of these (not memcpy'd or
 * byte loads 4 apart: 2-4x slower, measured); may_alias, as the bytes were written as bytes. */
#if defined(__GNUC__)
typedef uint32_t __attribute__((__may_alias__)) word_t;
#else
typedef uint32_t word_t;
#endif

/* Channel (byte) `shift / 8` of a pixel word. */
static inline int32_t band(word_t word, unsigned shift)
{
    return (int32_t)((word >> shift) & 255u);
}

static inline unsigned shift_of(int c)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return 24u - 8u * (unsigned)c;
#else
    return 8u * (unsigned)c;
#endif
}

/* mlimages_place, reading `pixels`: 4-byte pixels (R, G, B, padding), `row_bytes` apart,
 * `width` a row; 3 channels. Rows outer, channels inner: each row's 908 bytes (227 pixels)
 * are read three times from L1. */
CLONES void mlimages_place_pixels(float *restrict out, const uint8_t *restrict pixels,
                                  ptrdiff_t row_bytes, ptrdiff_t width,
                                  const float *restrict mean,
                                  ptrdiff_t mean_c, ptrdiff_t mean_row, ptrdiff_t mean_col,
                                  int crop, int top, int left, int flip, float scale)
{
    for (int y = 0; y < crop; y++) {
        const word_t *row = (const word_t *)(pixels + (ptrdiff_t)(top + y) * row_bytes);
        const word_t *forward = row + left, *backward = row + (width - 1 - left);
        for (int c = 0; c < 3; c++) {
            const unsigned s = shift_of(c);
            const float *m = mean + c * mean_c + (ptrdiff_t)(top + y) * mean_row
                             + left * mean_col;
            float *o = out + ((ptrdiff_t)c * crop + y) * crop;
            if (mean_col && !flip) {
                for (int x = 0; x < crop; x++)
                    o[x] = ((float)band(forward[x], s) - m[x]) * scale;
            } else if (mean_col) {
                for (int x = 0; x < crop; x++)
                    o[x] = ((float)band(backward[-x], s) - m[x]) * scale;
            } else if (!flip) {
                for (int x = 0; x < crop; x++)
                    o[x] = ((float)band(forward[x], s) - m[0]) * scale;
            } else {
                for (int x = 0; x < crop; x++)
                    o[x] = ((float)band(backward[-x], s) - m[0]) * scale;
            }
        }
    }
}

/* out[c][y][x] = pixel c of (top + y, flip ? width - 1 - left - x : left + x): the uint8
 * window as planes (3, crop, crop), C-contiguous; `pixels` as for mlimages_place_pixels. */
CLONES void mlimages_crop_pixels(uint8_t *restrict out, const uint8_t *restrict pixels,
                                 ptrdiff_t row_bytes, ptrdiff_t width,
                                 int crop, int top, int left, int flip)
{
    for (int y = 0; y < crop; y++) {
        const word_t *row = (const word_t *)(pixels + (ptrdiff_t)(top + y) * row_bytes);
        const word_t *forward = row + left, *backward = row + (width - 1 - left);
        for (int c = 0; c < 3; c++) {
            const unsigned s = shift_of(c);
            uint8_t *o = out + ((ptrdiff_t)c * crop + y) * crop;
            if (!flip) {
                for (int x = 0; x < crop; x++) o[x] = (uint8_t)band(forward[x], s);
            } else {
                for (int x = 0; x < crop; x++) o[x] = (uint8_t)band(backward[-x], s);
            }
        }
    }
}

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native",
    "Holds the loader's loops for ctypes (see mlimages/loader/native.py); no Python functions.",
    -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void)
{
    return PyModule_Create(&module);
}
