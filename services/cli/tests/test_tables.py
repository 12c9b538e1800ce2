from services.cli import tables


def test_chinese_characters_take_two_columns():
    assert tables.width("最低生活保障") == 12
    assert tables.width("dibao") == 5
    assert tables.width("周**") == 4
    # A combining accent adds no column.
    assert tables.width("e\u0301") == 1


def test_columns_line_up_by_display_width_with_mixed_scripts():
    rendered = tables.table(
        ["CODE", "名称", "DAYS"],
        [
            ["assistance.dibao", "最低生活保障", 30],
            ["elderly.senior_card", "尊老卡", 15],
            ["orgs.register", "Social org", 60],
        ],
        right=[False, False, True],
    )
    lines = rendered.splitlines()
    assert lines[0].startswith("CODE")
    # Every row's third column ends at the same terminal column.
    ends = {tables.width(line) for line in lines}
    assert len(ends) == 1, rendered
    # The second column starts at the same column on every line.
    titles = ["名称", "最低生活保障", "尊老卡", "Social org"]
    starts = {tables.width(line[: line.index(t)]) for line, t in zip(lines, titles, strict=True)}
    assert starts == {len("elderly.senior_card") + 2}
    assert "最低生活保障  " in lines[1]
    assert "尊老卡        " in lines[2]  # 6 columns of text, padded to 12 and the gap


def test_no_trailing_spaces_when_the_last_column_is_left_aligned():
    rendered = tables.table(["A", "NOTE"], [["x", "long note"], ["y", ""]])
    assert all(line == line.rstrip() for line in rendered.splitlines())


def test_truncation_never_splits_a_wide_character():
    cut = tables.truncate("居家养老服务申请", 7)
    assert cut == "居家养…"
    assert tables.width(cut) <= 7
    assert tables.truncate("short", 10) == "short"
    rendered = tables.table(["NOTE"], [["收入低于标准" * 10]], max_width=[20])
    assert tables.width(rendered.splitlines()[1]) <= 20


def test_control_characters_from_the_data_do_not_reach_the_terminal():
    assert tables.clean("line one\nline two\x1b[31m") == "line one line two [31m"
    # A right-to-left override could disguise a receipt.
    assert tables.clean("320585-\u202eABCDE") == "320585-ABCDE"


def test_fields_align_values_and_skip_empty_ones():
    rendered = tables.fields([("receipt", "320585-8D9TV-YJY6T"), ("note", ""), ("状态", "ok")])
    assert rendered.splitlines() == ["receipt  320585-8D9TV-YJY6T", "状态     ok"]


def test_enum_names_and_times_read_short():
    assert tables.short("CASE_STATUS_ROUTED", "CASE_STATUS_") == "ROUTED"
    # The bureau's local time (Asia/Shanghai), whatever the host's TZ.
    assert tables.moment("2026-12-24T15:59:59Z") == "2026-12-24 23:59:59 +08:00"
    assert tables.moment("2026-11-24T12:32:51.410337Z") == "2026-11-24 20:32:51 +08:00"
    assert tables.moment("2026-11-24T17:30:00Z") == "2026-11-25 01:30:00 +08:00"
    assert tables.moment("") == ""
