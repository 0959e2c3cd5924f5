"""The JSON form of Deluge values: run inputs made values (`inputs`: copied, or adopted
in place when parsed for one run alone), values written as compact JSON text (`text`), and
long lists of records written a column at a time (`records`, loaded with the first).

`sluicegate.values` offers `from_json`, `adopt_json` and `to_json_text`, which call these.
"""
