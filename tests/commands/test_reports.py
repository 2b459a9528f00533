"""The markdown table every report writes."""

from convlstm.commands.reports import markdown_table


def test_a_header_a_rule_and_one_line_per_row():
    table = markdown_table(["method", "MSE/frame ↓", "SSIM ↑"], [["ConvLSTM", "12.5", 0.9], ("persistence", 40, None)])
    assert table.splitlines() == [
        "| method | MSE/frame ↓ | SSIM ↑ |",
        "|---|---|---|",
        "| ConvLSTM | 12.5 | 0.9 |",
        "| persistence | 40 | None |",
    ]
    assert markdown_table(["a", "b"], iter([])) == "| a | b |\n|---|---|"  # no rows: the header alone
