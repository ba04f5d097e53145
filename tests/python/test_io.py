"""tsunagu.io: CSV readers (error messages name file, line and column) and HDF5 named arrays.

Truths used: small files written here with known contents and known defects; numpy arrays round-tripped through
HDF5 must come back bit-identical with their shapes; the error contract (ParseError/InvalidArgument → ValueError,
IoError → OSError).
"""
from __future__ import annotations

import numpy as np
import pytest

import tsunagu
from tsunagu import io, sparse

_NUMERIC_BUG = ("BUG: tsunagu.io.read_csv_numeric cannot return its result: python/core.cpp does not include "
                "<pybind11/eigen.h>, so converting the Eigen matrix raises RuntimeError 'Unable to convert call "
                "argument '1' to Python object'")


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


# ------------------------------------------------------------------------------------------------------------------
# CSV: successful reads
def test_read_csv_returns_header_and_text_cells(tmp_path):
    p = _write(tmp_path, "t.csv", '# a comment line before the header\nname,x,y\n"a, b",1,2.5\nc,-3,\n\n  \n')
    cols, rows = io.read_csv(p)
    assert cols == ["name", "x", "y"]
    assert rows[0] == ["a, b", "1", "2.5"]
    assert rows[1] == ["c", "-3", ""]
    assert len(rows) == 2  # '#' comment lines (before the header) and blank lines are skipped
    cols2, rows2 = io.read_csv(str(p))  # str and PathLike both work
    assert cols2 == cols and rows2 == rows


def test_read_csv_numeric_returns_names_values_and_kept_rows(tmp_path):
    p = _write(tmp_path, "t.csv", "a,b,c\n1,2,3\n4.5,-5e-1,6\n")
    names, values, kept = io.read_csv_numeric(p)
    assert names == ["a", "b", "c"]
    np.testing.assert_array_equal(values, [[1, 2, 3], [4.5, -0.5, 6]])
    assert values.dtype == np.float64
    assert list(kept) == [0, 1]
    names, values, _ = io.read_csv_numeric(p, columns=["c", "a"])
    assert names == ["c", "a"]
    np.testing.assert_array_equal(values, [[3, 1], [6, 4.5]])


def test_read_csv_numeric_drop_missing_drops_rows_with_empty_or_na_cells(tmp_path):
    p = _write(tmp_path, "m.csv", "a,b\n1,\n2,3\nNA,5\n7,8\n9,nan\n")
    names, values, kept = io.read_csv_numeric(p, drop_missing=True)
    np.testing.assert_array_equal(values, [[2, 3], [7, 8]])
    assert list(kept) == [1, 3]
    # only the requested columns count
    _, values, kept = io.read_csv_numeric(p, columns=["b"], drop_missing=True)
    np.testing.assert_array_equal(values, [[3], [5], [8]])
    assert list(kept) == [1, 2, 3]


def test_drop_missing_through_sparse_load_csv(tmp_path):
    p = _write(tmp_path, "m.csv", "a,b,y\n1,,1\n2,3,2\nNA,5,3\n7,8,4\n9,1,n/a\n0,2,6\n")
    X, y, names = sparse.load_csv(p, target="y", drop_missing=True)
    assert names == ["a", "b"]
    np.testing.assert_array_equal(X, [[2, 3], [7, 8], [0, 2]])
    np.testing.assert_array_equal(y, [2, 4, 6])
    with pytest.raises(ValueError, match=r"m\.csv:2: column 'b': missing value"):
        sparse.load_csv(p, target="y")


# ------------------------------------------------------------------------------------------------------------------
# CSV: errors name the file, the line and the column
@pytest.mark.parametrize("reader", ["read_csv_numeric", "load_csv"])
def test_non_numeric_cell_names_file_line_and_column(tmp_path, reader):
    p = _write(tmp_path, "data.csv", "a,b,c\n1,2,3\n4,x7,6\n")
    call = (lambda: io.read_csv_numeric(p)) if reader == "read_csv_numeric" else (
        lambda: sparse.load_csv(p, target="c"))
    with pytest.raises(tsunagu.ParseError, match=r"data\.csv:3: column 'b': non-numeric value 'x7'") as exc:
        call()
    assert isinstance(exc.value, ValueError)


def test_ragged_row_names_file_and_line(tmp_path):
    p = _write(tmp_path, "ragged.csv", "a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(ValueError, match=r"ragged\.csv:3: row has 2 fields, header has 3"):
        io.read_csv(p)
    p = _write(tmp_path, "long.csv", "a,b\n1,2\n3,4\n5,6,7\n")
    with pytest.raises(ValueError, match=r"long\.csv:4: row has 3 fields, header has 2"):
        io.read_csv_numeric(p)


def test_line_numbers_count_physical_lines_including_blank_lines_and_quoted_newlines(tmp_path):
    p = _write(tmp_path, "lines.csv", 'a,b\n1,2\n\n"multi\nline",3\n5,oops\n')
    with pytest.raises(ValueError, match=r"lines\.csv:6: column 'b': non-numeric value 'oops'"):
        sparse.load_csv(p, features=["b"])


def test_duplicate_column_is_an_error(tmp_path):
    p = _write(tmp_path, "dup.csv", "a,b,a\n1,2,3\n")
    with pytest.raises(tsunagu.ParseError, match=r"dup\.csv:1: duplicate column name 'a' in header \(columns 1 and 3\)"):
        io.read_csv(p)


@pytest.mark.parametrize("text,message", [("", "empty file: no header"), ("\n\n", "empty file: no header"),
                                          ("a,b\n", "no data rows")])
def test_empty_file_or_header_only_is_an_error(tmp_path, text, message):
    p = _write(tmp_path, "empty.csv", text)
    with pytest.raises(tsunagu.ParseError, match=rf"empty\.csv(:\d+)?: {message}"):
        io.read_csv(p)


def test_empty_column_name_is_an_error(tmp_path):
    p = _write(tmp_path, "noname.csv", "a,,c\n1,2,3\n")
    with pytest.raises(ValueError, match=r"noname\.csv:1: empty column name in header \(column 2 of 3\)"):
        io.read_csv(p)


def test_missing_column_lists_the_available_columns(tmp_path):
    p = _write(tmp_path, "cols.csv", "alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(tsunagu.InvalidArgument, match=r"cols\.csv: no column 'delta' \(columns: alpha, beta, gamma\)"):
        io.read_csv_numeric(p, columns=["alpha", "delta"])
    with pytest.raises(ValueError, match=r"no column 'delta' \(columns: alpha, beta, gamma\)"):
        sparse.load_csv(p, target="delta")


@pytest.mark.parametrize("cell,message", [("NaN", "missing value"), ("nan", "missing value"), ("NA", "missing value"),
                                          ("", "missing value"), ("inf", "non-finite value 'inf'"),
                                          ("-Infinity", "non-finite value '-Infinity'"),
                                          ("1e999", "value out of double range '1e999'")])
def test_nan_inf_and_empty_cells_are_errors_without_drop_missing(tmp_path, cell, message):
    p = _write(tmp_path, "nf.csv", f"a,b\n1,2\n3,{cell}\n5,6\n")
    with pytest.raises(tsunagu.ParseError, match=rf"nf\.csv:3: column 'b': {message}"):
        io.read_csv_numeric(p)


def test_missing_file_is_os_error(tmp_path):
    with pytest.raises(tsunagu.IoError, match="nothere.csv") as exc:
        io.read_csv(tmp_path / "nothere.csv")
    assert isinstance(exc.value, OSError)
    with pytest.raises(OSError):
        io.read_csv_numeric(tmp_path / "nothere.csv")


# ------------------------------------------------------------------------------------------------------------------
# HDF5
def test_h5_round_trip_of_1d_2d_3d_arrays_nested_names_and_attributes(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x": np.arange(5.0),
        "m/two": rng.standard_normal((3, 4)),
        "g/h/three": rng.standard_normal((2, 3, 4)),
        "ints": np.arange(4),                              # converted to float64
        "fortran": np.asfortranarray(rng.standard_normal((3, 2))),  # any memory layout
        "scalar": np.float64(2.5),
        "empty": np.zeros((0, 3)),
    }
    f = tmp_path / "a.h5"
    io.h5_write(f, arrays, {"creator": "pytest", "note": "ünïcode"})
    assert io.h5_list(f) == sorted(arrays)
    assert io.h5_attributes(f) == {"creator": "pytest", "note": "ünïcode"}
    for name, a in arrays.items():
        back = io.h5_read(f, name)
        assert back.dtype == np.float64
        assert back.shape == np.shape(a)
        np.testing.assert_array_equal(back, np.asarray(a, dtype=float))
    # a leading '/' names the same dataset
    np.testing.assert_array_equal(io.h5_read(f, "/g/h/three"), arrays["g/h/three"])
    assert io.h5_attributes(tmp_path / "a.h5") == io.h5_attributes(str(f))


def test_h5_write_replaces_an_existing_file_as_a_whole(tmp_path):
    f = tmp_path / "r.h5"
    io.h5_write(f, {"a": np.ones(3), "b": np.zeros(2)})
    io.h5_write(f, {"c": np.arange(2.0)})
    assert io.h5_list(f) == ["c"]
    assert io.h5_attributes(f) == {}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5"]


def test_h5_read_of_missing_dataset_is_value_error_listing_datasets(tmp_path):
    f = tmp_path / "d.h5"
    io.h5_write(f, {"a": np.ones(2), "grp/b": np.ones(2)})
    with pytest.raises(tsunagu.InvalidArgument, match=r"no dataset 'zz' \(datasets: a, grp/b\)") as exc:
        io.h5_read(f, "zz")
    assert isinstance(exc.value, ValueError)
    with pytest.raises(ValueError, match="no dataset 'grp'"):  # a group is not a dataset
        io.h5_read(f, "grp")


def test_h5_missing_or_non_hdf5_file_is_os_error(tmp_path):
    for fn in (lambda p: io.h5_read(p, "a"), io.h5_list, io.h5_attributes):
        with pytest.raises(tsunagu.IoError, match="no such file"):
            fn(tmp_path / "missing.h5")
    text = _write(tmp_path, "text.h5", "not hdf5")
    with pytest.raises(OSError, match="not a readable HDF5 file"):
        io.h5_read(text, "a")


def test_h5_write_into_missing_directory_is_os_error_and_leaves_no_temp_file(tmp_path):
    with pytest.raises(tsunagu.IoError, match="no such directory") as exc:
        io.h5_write(tmp_path / "nodir" / "x.h5", {"a": np.ones(2)})
    assert isinstance(exc.value, OSError)
    assert list(tmp_path.iterdir()) == []


def test_h5_write_rejects_bad_names_and_arrays_without_touching_the_file_system(tmp_path):
    f = tmp_path / "bad.h5"
    with pytest.raises(ValueError, match="empty path component"):
        io.h5_write(f, {"a//b": np.ones(2)})
    with pytest.raises(ValueError, match="not convertible to float64"):
        io.h5_write(f, {"s": np.array(["x", "y"])})
    with pytest.raises(tsunagu.Error):  # 'a' cannot be a dataset and a group at once
        io.h5_write(f, {"a": np.ones(2), "a/b": np.ones(2)})
    assert list(tmp_path.iterdir()) == []
