/*
 * rayts_shm: the smallest possible native piece of the object store.
 *
 *   map(fd, size, writable, populate[, offset]) -> ArrayBuffer
 *                                                      mmap(MAP_SHARED) as an external ArrayBuffer
 *   fallocate(fd, offset, length) -> boolean           reserve blocks (false: not supported here)
 *   advise(buffer, offset, length, advice) -> void     madvise on a page-aligned sub-range
 *   pageSize() -> number
 *   memfd(name, hugetlb) -> fd                         memfd_create (MFD_HUGETLB: 2 MiB hugetlb pages)
 *   populate(buffer, offset, length, write) -> Promise  MADV_POPULATE_READ/_WRITE on the libuv pool,
 *                                                      so a process maps its pages without blocking
 *
 * Lifetime: the mapping is unmapped only by the ArrayBuffer's finalizer, i.e. when V8 has proven
 * that nothing (no typed array, no Buffer, no DataView) can reference the memory any more.
 * Nothing else ever munmaps, so a view can never point into an unmapped range.
 */
#include <node_api.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHECK(env, call)                                                  \
  do {                                                                    \
    if ((call) != napi_ok) {                                              \
      napi_throw_error((env), NULL, "rayts_shm: N-API call failed: " #call); \
      return NULL;                                                        \
    }                                                                     \
  } while (0)

typedef struct {
  void* addr;
  size_t length;
} mapping_t;

static void throw_errno(napi_env env, const char* what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s", what, strerror(err));
  napi_value code, message, error;
  const char* name = err == ENOMEM ? "ENOMEM" : err == EBADF ? "EBADF" : err == EINVAL ? "EINVAL"
                   : err == EACCES ? "EACCES" : err == ENODEV ? "ENODEV" : err == ENOSPC ? "ENOSPC"
                   : err == EFBIG ? "EFBIG" : err == EDQUOT ? "EDQUOT" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, code, message, &error);
  napi_value errnum;
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
}

static void finalize_mapping(napi_env env, void* data, void* hint) {
  mapping_t* m = (mapping_t*)hint;
  if (m != NULL) {
    munmap(m->addr, m->length);
    free(m);
  }
}

static int get_size_arg(napi_env env, napi_value v, size_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok) return 0;
  if (!(d >= 0) || d > 9007199254740991.0 || d != (double)(uint64_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

/* Reads up to `max` arguments into argv (missing ones stay undefined) and throws a TypeError with
 * `usage` when fewer than `required` were given; returns the count, or -1 after throwing. */
static ssize_t get_args(napi_env env, napi_callback_info info, napi_value* argv, size_t max, size_t required,
                        const char* usage) {
  size_t argc = max;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    napi_throw_error(env, NULL, "rayts_shm: napi_get_cb_info failed");
    return -1;
  }
  if (argc < required) {
    napi_throw_type_error(env, NULL, usage);
    return -1;
  }
  return (ssize_t)argc;
}

static napi_value Map(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  ssize_t got = get_args(env, info, argv, 5, 2, "map(fd, size, writable, populate): fd and size are required");
  if (got < 0) return NULL;
  size_t argc = (size_t)got;
  int32_t fd;
  size_t size;
  bool writable = true, populate = false;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "map: fd must be a non-negative integer");
    return NULL;
  }
  if (!get_size_arg(env, argv[1], &size) || size == 0) {
    napi_throw_type_error(env, NULL, "map: size must be a positive integer");
    return NULL;
  }
  if (argc > 2) napi_get_value_bool(env, argv[2], &writable);
  if (argc > 3) napi_get_value_bool(env, argv[3], &populate);
  size_t offset = 0;
  if (argc > 4 && (!get_size_arg(env, argv[4], &offset) || offset % (size_t)sysconf(_SC_PAGESIZE) != 0)) {
    napi_throw_type_error(env, NULL, "map: offset must be a multiple of the page size");
    return NULL;
  }

  int prot = PROT_READ | (writable ? PROT_WRITE : 0);
  int flags = MAP_SHARED | (populate ? MAP_POPULATE : 0);
  void* addr = mmap(NULL, size, prot, flags, fd, (off_t)offset);
  if (addr == MAP_FAILED) {
    throw_errno(env, "mmap", errno);
    return NULL;
  }
  mapping_t* m = (mapping_t*)malloc(sizeof *m);
  if (m == NULL) {
    munmap(addr, size);
    throw_errno(env, "malloc", ENOMEM);
    return NULL;
  }
  m->addr = addr;
  m->length = size;
  napi_value ab;
  napi_status st = napi_create_external_arraybuffer(env, addr, size, finalize_mapping, m, &ab);
  if (st != napi_ok) {
    /* Node has already run the finalizer on this path (it does so when the length is over
     * buffer.constants.MAX_LENGTH), so the mapping and `m` are gone: do not free them again.
     * The JS wrapper checks the length first, so this is a last line of defence. */
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) {
      napi_throw_error(env, NULL,
                       "rayts_shm: napi_create_external_arraybuffer failed (size over the ArrayBuffer limit?)");
    }
    return NULL;
  }
  return ab;
}

static napi_value Advise(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (get_args(env, info, argv, 4, 4, "advise(buffer, offset, length, advice): 4 arguments required") < 0) return NULL;
  void* data;
  size_t bytes;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "advise: buffer must be an ArrayBuffer");
    return NULL;
  }
  size_t offset, length;
  int32_t advice;
  if (!get_size_arg(env, argv[1], &offset) || !get_size_arg(env, argv[2], &length) ||
      napi_get_value_int32(env, argv[3], &advice) != napi_ok) {
    napi_throw_type_error(env, NULL, "advise: offset, length and advice must be integers");
    return NULL;
  }
  if (offset > bytes || length > bytes - offset) {
    napi_throw_range_error(env, NULL, "advise: range outside the buffer");
    return NULL;
  }
  if (length == 0) return NULL;
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)data + offset;
  uintptr_t end = start + length;
  uintptr_t astart = start & ~(uintptr_t)(page - 1);
  uintptr_t aend = (end + page - 1) & ~(uintptr_t)(page - 1);
  /* Never advise outside our own mapping (the mapping itself is page aligned and sized). */
  if (astart < (uintptr_t)data) astart = (uintptr_t)data;
  if (madvise((void*)astart, aend - astart, advice) != 0) {
    throw_errno(env, "madvise", errno);
    return NULL;
  }
  return NULL;
}

static napi_value Fallocate(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (get_args(env, info, argv, 3, 3, "fallocate(fd, offset, length): integers required") < 0) return NULL;
  int32_t fd;
  size_t offset, length;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      !get_size_arg(env, argv[1], &offset) || !get_size_arg(env, argv[2], &length)) {
    napi_throw_type_error(env, NULL, "fallocate(fd, offset, length): integers required");
    return NULL;
  }
  napi_value result;
  int rc;
  do {
    rc = fallocate(fd, 0, (off_t)offset, (off_t)length);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
      CHECK(env, napi_get_boolean(env, false, &result));
      return result;
    }
    throw_errno(env, "fallocate", errno);
    return NULL;
  }
  CHECK(env, napi_get_boolean(env, true, &result));
  return result;
}

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21U << 26)
#endif

static napi_value Memfd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (get_args(env, info, argv, 2, 2, "memfd(name, hugetlb): 2 arguments required") < 0) return NULL;
  char name[200];
  size_t len;
  bool huge = false;
  if (napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok ||
      napi_get_value_bool(env, argv[1], &huge) != napi_ok) {
    napi_throw_type_error(env, NULL, "memfd(name, hugetlb): a string and a boolean");
    return NULL;
  }
  unsigned flags = MFD_CLOEXEC | (huge ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
  long fd = syscall(SYS_memfd_create, name, flags);
  if (fd < 0) {
    throw_errno(env, "memfd_create", errno);
    return NULL;
  }
  napi_value v;
  CHECK(env, napi_create_int32(env, (int32_t)fd, &v));
  return v;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22 /* Linux 5.14; older glibc headers lack the name */
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older glibc headers lack the name */
#endif

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref keep; /* the ArrayBuffer: its mapping must outlive the thread's madvise */
  void* addr;
  size_t length;
  int advice;
  int err;
} populate_t;

static void populate_execute(napi_env env, void* data) {
  populate_t* p = (populate_t*)data;
  p->err = 0;
  int rc;
  do {
    rc = madvise(p->addr, p->length, p->advice);
  } while (rc != 0 && (errno == EINTR || errno == EAGAIN));
  if (rc != 0) p->err = errno;
}

static void populate_complete(napi_env env, napi_status status, void* data) {
  populate_t* p = (populate_t*)data;
  napi_value result;
  if (status == napi_ok && p->err == 0) {
    napi_get_boolean(env, true, &result);
  } else {
    /* EINVAL: a kernel before 5.14 without the advice; callers fall back to ordinary faults. */
    napi_get_boolean(env, false, &result);
  }
  napi_resolve_deferred(env, p->deferred, result);
  napi_delete_reference(env, p->keep);
  napi_delete_async_work(env, p->work);
  free(p);
}

static napi_value Populate(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (get_args(env, info, argv, 4, 4, "populate(buffer, offset, length, write): 4 arguments required") < 0) return NULL;
  void* data;
  size_t bytes, offset, length;
  bool write = false;
  if (napi_get_arraybuffer_info(env, argv[0], &data, &bytes) != napi_ok) {
    napi_throw_type_error(env, NULL, "populate: buffer must be an ArrayBuffer");
    return NULL;
  }
  if (!get_size_arg(env, argv[1], &offset) || !get_size_arg(env, argv[2], &length) ||
      napi_get_value_bool(env, argv[3], &write) != napi_ok) {
    napi_throw_type_error(env, NULL, "populate: offset and length must be integers, write a boolean");
    return NULL;
  }
  if (offset > bytes || length > bytes - offset) {
    napi_throw_range_error(env, NULL, "populate: range outside the buffer");
    return NULL;
  }
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = ((uintptr_t)data + offset) & ~(uintptr_t)(page - 1);
  uintptr_t end = ((uintptr_t)data + offset + length + page - 1) & ~(uintptr_t)(page - 1);
  if (start < (uintptr_t)data) start = (uintptr_t)data;
  populate_t* p = (populate_t*)calloc(1, sizeof *p);
  if (p == NULL) {
    throw_errno(env, "calloc", ENOMEM);
    return NULL;
  }
  p->addr = (void*)start;
  p->length = end > start ? end - start : 0;
  p->advice = write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
  napi_value promise, name;
  if (napi_create_promise(env, &p->deferred, &promise) != napi_ok ||
      napi_create_reference(env, argv[0], 1, &p->keep) != napi_ok ||
      napi_create_string_utf8(env, "rayts_shm.populate", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, populate_execute, populate_complete, p, &p->work) != napi_ok ||
      napi_queue_async_work(env, p->work) != napi_ok) {
    free(p);
    napi_throw_error(env, NULL, "rayts_shm: could not queue populate");
    return NULL;
  }
  return promise;
}

static napi_value PageSize(napi_env env, napi_callback_info info) {
  napi_value v;
  CHECK(env, napi_create_int64(env, (int64_t)sysconf(_SC_PAGESIZE), &v));
  return v;
}

/* malloc_trim(0): gives the allocator's free memory back to the system (glibc); false elsewhere. */
static napi_value Trim(napi_env env, napi_callback_info info) {
  napi_value v;
#ifdef __GLIBC__
  CHECK(env, napi_get_boolean(env, malloc_trim(0) != 0, &v));
#else
  CHECK(env, napi_get_boolean(env, false, &v));
#endif
  return v;
}

static napi_value AdviceConstants(napi_env env) {
  napi_value obj, v;
  napi_create_object(env, &obj);
#define ADV(name)                       \
  napi_create_int32(env, name, &v);     \
  napi_set_named_property(env, obj, #name, v);
  ADV(MADV_NORMAL)
  ADV(MADV_RANDOM)
  ADV(MADV_SEQUENTIAL)
  ADV(MADV_WILLNEED)
  ADV(MADV_DONTNEED)
  ADV(MADV_POPULATE_READ)
  ADV(MADV_POPULATE_WRITE)
#ifdef MADV_REMOVE
  ADV(MADV_REMOVE)
#endif
#ifdef MADV_HUGEPAGE
  ADV(MADV_HUGEPAGE)
#endif
#undef ADV
  return obj;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, Map, NULL, NULL, NULL, napi_default, NULL},
      {"advise", NULL, Advise, NULL, NULL, NULL, napi_default, NULL},
      {"fallocate", NULL, Fallocate, NULL, NULL, NULL, napi_default, NULL},
      {"memfd", NULL, Memfd, NULL, NULL, NULL, napi_default, NULL},
      {"populate", NULL, Populate, NULL, NULL, NULL, napi_default, NULL},
      {"pageSize", NULL, PageSize, NULL, NULL, NULL, napi_default, NULL},
      {"trim", NULL, Trim, NULL, NULL, NULL, napi_default, NULL},
      {"advice", NULL, NULL, NULL, NULL, AdviceConstants(env), napi_enumerable, NULL},
  };
  CHECK(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
