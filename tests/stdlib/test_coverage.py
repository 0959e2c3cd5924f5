"""Every built-in that SPEC §7 lists is registered for the value types it applies to.

The names are written out here (not read from the spec) so that a built-in that goes
missing from a table fails this test by name."""

from __future__ import annotations

import pytest

from sluicegate.stdlib import FUNCTIONS, METHODS, TASKS

SPEC_7 = {
    "TEXT": """length len contains notContains containsIgnoreCase startsWith
        startsWithIgnoreCase endsWith endsWithIgnoreCase equals equalsIgnoreCase indexOf
        lastIndexOf getPrefix getSuffix getPrefixIgnoreCase getSuffixIgnoreCase subString
        substring subText mid left right trim ltrim rtrim toUpperCase toLowerCase proper
        replaceAll replaceFirst replaceAllIgnoreCase replaceFirstIgnoreCase remove
        removeFirstOccurence removeLastOccurence getAlpha getAlphaNumeric removeAllAlpha
        removeAllAlphaNumeric getOccurenceCount matches leftpad rightpad repeat reverse
        concat isAscii toList toListString toMap toJSONList getJSON toNumber toLong
        toDecimal toDate toDateTime toTime toString toText isEmpty isBlank isNull hexToText
        textToHex encodeUrl urlEncode urlDecode executeXPath toFile""",
    "NUMBER": """abs ceil floor round truncate sqrt power exp log min max toDecimal toLong
        toNumber toString toText toHex isEven isOdd""",
    "DECIMAL": """abs ceil floor round truncate sqrt power exp log min max toDecimal toLong
        toNumber toString toText isEven isOdd""",
    "LIST": """add addAll get size isEmpty clear contains notContains indexOf lastIndexOf
        remove removeElement removeAll sort distinct intersect subList sum average largest
        smallest median nthLargest nthSmallest toString toJSONList""",
    "MAP": """put putAll get getJSON keys values remove size isEmpty clear containKey
        containsKey containValue containsValue toString toMap""",
    "COLLECTION": "insert get keys values size isEmpty delete",
    "FILE": """getFileContent getFileName getFileSize getFileType setCharset setFileName
        setFileType setParamName compress extract convertToPDF isFile""",
    "DATETIME": """addDay addWeek addMonth addYear addHour addMinutes addSeconds subDay
        subWeek subMonth subYear subHour subMinutes subSeconds addBusinessDay
        subBusinessDay workday getDay getMonth getYear getHour getMinutes getSeconds
        getDayOfWeek getDayOfYear getWeekOfYear day month year hour minute second weekday
        daysBetween hoursBetween monthsBetween yearsBetween days360 toStartOfMonth
        toStartOfWeek eomonth edate unixEpoch toDate toDateTime toTime isDate toString""",
}
NULL_AND_TYPES = "isNull isEmpty isBlank isNumber isText isDate isFile isList isMap"
FUNCTION_FORMS = "ifnull randomNumber base64Encode base64Decode urlEncode urlDecode " \
                 "hmacsha256 hmacsha1 hmacsha512 md5 sha256 aesEncode aesDecode"
ENCRYPTION = "base64Encode base64Decode urlEncode urlDecode hmacsha256 hmacsha1 " \
             "hmacsha512 md5 sha256 aesEncode aesDecode"


def _method(receiver: str, name: str) -> object:
    return METHODS.get(receiver, {}).get(name.lower()) or METHODS["ANY"].get(name.lower())


@pytest.mark.parametrize("receiver", sorted(SPEC_7))
def test_every_spec_method_is_registered(receiver: str) -> None:
    missing = [n for n in SPEC_7[receiver].split() if _method(receiver, n) is None]
    assert missing == []


@pytest.mark.parametrize("receiver", ["TEXT", "NUMBER", "LIST", "MAP", "NULL", "DATETIME"])
def test_null_and_type_checks_apply_to_every_value(receiver: str) -> None:
    missing = [n for n in NULL_AND_TYPES.split() if _method(receiver, n) is None]
    assert missing == []


def test_function_forms_and_encryption_tasks() -> None:
    assert [n for n in FUNCTION_FORMS.split() if n.lower() not in FUNCTIONS] == []
    assert [n for n in ENCRYPTION.split()
            if f"zoho.encryption.{n.lower()}" not in TASKS] == []
