"""The ctypes prototype table, structs and constants match include/grazr_proc.h."""

from __future__ import annotations

import ctypes
import re
from ctypes import POINTER, c_char, c_char_p, c_int32, c_int64, c_size_t, c_uint32

import pytest

from conftest import ROOT

from grazr_proc import _ffi

HEADER = ROOT / "include" / "grazr_proc.h"


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


@pytest.fixture(scope="module")
def header() -> str:
    assert HEADER.is_file(), f"{HEADER} is missing: run cargo build"
    return HEADER.read_text()


def ctype_of(c_type: str):
    """The ctypes type a C spelling from the header must be declared as."""
    t = " ".join(c_type.replace("*", " * ").split())
    table = {
        "int32_t": c_int32,
        "uint32_t": c_uint32,
        "int64_t": c_int64,
        "size_t": c_size_t,
        "char *": POINTER(c_char),
        "const char *": c_char_p,
        "const char * const *": POINTER(c_char_p),
        "const char * const * *": POINTER(POINTER(c_char_p)),
    }
    if t in table:
        return table[t]
    m = re.fullmatch(r"(?:const )?struct (\w+) \*", t)
    if m:
        return POINTER(_ffi.STRUCTS[m.group(1)])
    raise AssertionError(f"no ctypes mapping for C type {c_type!r}")


def parse_functions(header: str):
    body = _strip_comments(header)
    found = {}
    for m in re.finditer(r"^\s*([A-Za-z_][\w \*]*?[\s\*])(grazr_\w+)\s*\(([^)]*)\)\s*;", body, flags=re.M):
        ret, name, params = m.group(1).strip(), m.group(2), m.group(3).strip()
        args = []
        if params and params != "void":
            for param in params.split(","):
                param = param.strip()
                pm = re.fullmatch(r"(.*?[\s\*])(\w+)", param)
                assert pm, f"cannot parse parameter {param!r} of {name}"
                args.append(pm.group(1).strip())
        found[name] = (ret, args)
    return found


def parse_structs(header: str):
    body = _strip_comments(header)
    structs = {}
    for m in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", body, flags=re.S):
        fields = []
        for decl in m.group(2).split(";"):
            decl = " ".join(decl.split())
            if not decl:
                continue
            fm = re.fullmatch(r"(.*?[\s\*])(\w+)", decl)
            assert fm, f"cannot parse field {decl!r}"
            fields.append((fm.group(2), fm.group(1).strip()))
        structs[m.group(1)] = fields
    return structs


def parse_defines(header: str):
    values = {}
    for m in re.finditer(r"^#define (GRAZR_\w+) (.+)$", header, flags=re.M):
        values[m.group(1)] = m.group(2).strip()
    return values


def test_every_header_function_is_in_the_table_with_matching_types(header):
    functions = parse_functions(header)
    assert len(functions) >= 17, f"parsed too few functions from the header: {sorted(functions)}"
    missing = sorted(set(functions) - set(_ffi.PROTOTYPES))
    extra = sorted(set(_ffi.PROTOTYPES) - set(functions))
    assert not missing, f"functions in the header but not in the prototype table: {missing}"
    assert not extra, f"functions in the prototype table but not in the header: {extra}"
    for name, (ret, args) in functions.items():
        restype, argtypes, errcheck = _ffi.PROTOTYPES[name]
        assert restype is ctype_of(ret), f"{name}: restype {restype} but the header returns {ret}"
        assert len(argtypes) == len(args), f"{name}: {len(argtypes)} argtypes, header has {len(args)}"
        for i, (declared, c_type) in enumerate(zip(argtypes, args)):
            assert declared is ctype_of(c_type), f"{name} argument {i}: {declared} vs header {c_type}"
        if ret == "int32_t":
            assert errcheck is _ffi._check_code, f"{name} returns a result code but has no errcheck"
        else:
            assert errcheck is None, f"{name} returns a string and must not be checked"


def test_loaded_functions_carry_the_table(header):
    for name, (restype, argtypes, errcheck) in _ffi.PROTOTYPES.items():
        func = getattr(_ffi.lib, name)
        assert func.restype is restype
        assert tuple(func.argtypes) == tuple(argtypes)
        if errcheck is not None:
            assert func.errcheck is errcheck


def test_structs_match_the_header_field_by_field(header):
    structs = parse_structs(header)
    assert set(structs) == set(_ffi.STRUCTS), f"header structs {sorted(structs)}"
    for name, fields in structs.items():
        declared = _ffi.STRUCTS[name]._fields_
        assert [f for f, _ in declared] == [f for f, _ in fields], f"{name}: field names or order differ"
        for (field, ctype), (_, c_type) in zip(declared, fields):
            assert ctype is ctype_of(c_type), f"{name}.{field}: {ctype} vs header {c_type}"


def test_struct_sizes_are_the_c_sizes():
    # Fixed by the C layout rules on LP64: what the library checks against options->size.
    assert ctypes.sizeof(_ffi.grazr_start_options) == 64
    assert ctypes.sizeof(_ffi.grazr_stop_options) == 40
    assert ctypes.sizeof(_ffi.grazr_info) == 64


def test_constants_match_the_header(header):
    defines = parse_defines(header)
    checked = 0
    for name, raw in defines.items():
        if name in ("GRAZR_PROC_H",) or name.startswith("GRAZR_PROC_"):
            continue
        assert hasattr(_ffi, name), f"{name} from the header is missing in grazr_proc._ffi"
        value = getattr(_ffi, name)
        expected = 2**31 - 1 if raw == "INT32_MAX" else int(raw)
        assert value == expected, f"{name}: {value} vs header {raw}"
        checked += 1
    assert checked >= 25


def test_enums_and_version_match_the_header(header):
    import grazr_proc

    defines = parse_defines(header)
    for member in grazr_proc.Status:
        assert int(defines[f"GRAZR_STATUS_{member.name}"]) == member.value
    for member in grazr_proc.State:
        assert int(defines[f"GRAZR_STATE_{member.name}"]) == member.value
    states = {k for k in defines if k.startswith("GRAZR_STATE_")}
    assert len(states) == len(grazr_proc.State)
    assert grazr_proc.version() == defines["GRAZR_PROC_VERSION"].strip('"')
    for code, cls in grazr_proc.errors.ERRORS_BY_CODE.items():
        assert grazr_proc.result_name(code) == next(k for k, v in defines.items() if k.startswith("GRAZR_ERR_") and int(v) == code)
        assert cls.code == code
    errs = {k for k in defines if k.startswith("GRAZR_ERR_")}
    assert len(errs) == len(grazr_proc.errors.ERRORS_BY_CODE)
    assert grazr_proc.result_name(-12345) == "GRAZR_ERR_UNKNOWN"
