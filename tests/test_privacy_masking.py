"""The one masking function (nlp.pii.mask_pii): a table of real-looking variants, masked and left alone."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from bot.db.models import Account
from bot.domain.cases import masked_for_officials
from nlp.pii import mask_pii, neutral_file_name

NAMES = ["三 张", "@zs_2026"]

# (as typed, must not survive anywhere in the output, expected output or None)
MASKED = [
    # mobiles: full-width, any separator, zero-width, prefixes
    ("电话１３８１２３４５６７８", "12345678", "电话138****5678"),
    ("电话138－1234－5678", "1234", "电话138****5678"),
    ("电话138.1234.5678", "1234", "电话138****5678"),
    ("电话138 1234 5678", "1234", "电话138****5678"),
    ("电话 138-1234-5678。", "1234", "电话 138****5678。"),
    ("手机1\u200b38\u200b1234\u200b5678", "1234", "手机138****5678"),
    ("手机138\u20601234\ufeff5678", "1234", "手机138****5678"),
    ("手机１３８　１２３４　５６７８", "1234", "手机138****5678"),
    ("手机138·1234·5678", "1234", "手机138****5678"),
    ("手机138—1234—5678", "1234", "手机138****5678"),
    ("手机138_1234_5678", "1234", "手机138****5678"),
    ("手机1381 234 5678", "1381234", "手机138****5678"),
    ("+86 138 1234 5678", "1234", "+86 138****5678"),
    ("+86-13812345678", "1234", "+86-138****5678"),
    ("0086-138-1234-5678", "1234", "0086-138****5678"),
    ("打8613912345678找我", "1234", "打86139****5678找我"),
    ("电话\u202e13812345678\u202c找我", "1234", "电话138****5678找我"),
    ("共3人 13812345678", "1234", "共3人 138****5678"),
    ("138 1234 5678 2026年起", "1234", "138****5678 2026年起"),
    ("联系方式：19912345678／18612345678", "1234", "联系方式：199****5678／186****5678"),
    # landlines
    ("座机0515-88886666", "8888", "座机0515-****6666"),
    ("座机0515－88886666", "8888", "座机0515-****6666"),
    ("(0515)88886666", "8888", "(0515)****6666"),
    ("（0515）8888 6666", "8888", None),
    ("电话：010-12345678", "1234", "电话：010-****5678"),
    ("010 1234 5678", "1234", "010 ****5678"),
    ("固话 8888 6666", "8888", "固话 ****6666"),
    ("座机：88886666转", "8888", "座机：****6666转"),
    # 身份证
    ("身份证320902199001011234", "19900101", "身份证320902********1234"),
    ("身份证号：32090219900101123x。", "19900101", "身份证号：320902********123X。"),
    ("身份证 3209 0219 9001 0112 34", "9001", "身份证 320902********1234"),
    ("身份证 320902 19900101 1234", "19900101", "身份证 320902********1234"),
    ("身份证３２０９０２１９９００１０１１２３Ｘ", "19900101", "身份证320902********123X"),
    ("老身份证320902900101123", "900101", "老身份证320902*****1123"),
    # e-mail
    ("邮箱zhangsan@163.com", "zhangsan", "邮箱z***@163.com"),
    ("发到 Zhang.San+gov@Example.com.cn 谢谢", "Zhang.San", "发到 Z***@Example.com.cn 谢谢"),
    ("邮箱ｚｈａｎｇｓａｎ＠ｑｑ．ｃｏｍ", "zhangsan", "邮箱z***@qq.com"),
    # QQ and WeChat
    ("QQ：123456789", "3456", "QQ：12*****89"),
    ("qq号 12345678", "3456", "qq号 12****78"),
    ("扣扣 987654", "8765", "扣扣 98**54"),
    ("微信号：zhang_san88", "zhang_san", "微信号：zh*******88"),
    ("vx zs123456", "zs123456", "vx zs****56"),
    ("加我VX:laowang_2020", "laowang", None),
    ("微信 13812345678", "1234", "微信 138****5678"),
    ("加我wxid_abc12345", "abc12345", "加我wxid_****"),
    # bank cards
    ("卡号6222 0212 3456 7890 128", "0212", "卡号6222 **** **** 0128"),
    ("4111111111111111", "11111111", "4111 **** **** 1111"),
    ("银行卡号6222021234567890123", "02123456", "银行卡号6222 **** **** 0123"),
    ("收款账户 6217-0012-3456-7890-123", "0012", "收款账户 6217 **** **** 0123"),
    # licence plates
    ("车牌苏J·12345", "12345", "车牌苏J·*****"),
    ("苏J12345的车", "12345", "苏J*****的车"),
    ("粤B·D12345", "D12345", "粤B·******"),
    ("京A 12345", "12345", "京A *****"),
    ("苏j·1234x", "1234", "苏J·*****"),
    # the complainant's own names
    ("我叫张三，欠款未付", "张三", "我叫某某，欠款未付"),
    ("张 三来投诉", "张 三", "某某来投诉"),
    ("张\u200b三来投诉", "张", "某某来投诉"),
    ("联系人：三张", "三张", "联系人：某某"),
    ("我的用户名是 zs_2026", "zs_2026", "我的用户名是 某某"),
    ("联系人张三电话13812345678", "张三", "联系人某某电话138****5678"),
]

KEPT = [
    "（2023）苏09民初123号",
    "(2023)苏09民初123号判决",
    "（2023）苏0902执1234号判决书",
    "【2024】苏09民终567号",
    "盐政发〔2023〕12号文件",
    "投诉编号YC-20261127-0042",
    "承诺CN-2026-0001未兑现",
    "2026年11月27日",
    "2026-11-27",
    "2026.11.27到期",
    "2026-11-27 13:45",
    "付款日20261127",
    "金额13800000000元",
    "欠款 1,380,000 元",
    "欠款380万元，另有1200000元保证金",
    "合同金额12345678.50元，工期365天",
    "拨打12345热线",
    "第1、3、5项",
    "合同编号HT2025-0318",
    "发票号码 12345678",
    "订单号1234567890123456",
    "统一社会信用代码91320900MA1XXXXX0X",
    "苏州市住建局",
    "京东方科技",
    "张三丰纪念馆",  # not the complainant's name here: names are passed only for the complainant
    "2025年第3季度完成率85.5%",
    "共计3 800 000元",
    "",
]


@pytest.mark.parametrize("raw,secret,expected", MASKED)
def test_masked(raw: str, secret: str, expected: str | None) -> None:
    out = mask_pii(raw, names=NAMES)
    assert secret not in out, out
    if expected is not None:
        assert out == expected
    assert mask_pii(out, names=NAMES) == out  # idempotent


@pytest.mark.parametrize("text", KEPT)
def test_kept(text: str) -> None:
    assert mask_pii(text) == text


def test_enough_variants() -> None:
    assert len(MASKED) + len(KEPT) >= 60


def test_name_parts_and_marked_names() -> None:
    account = Account(full_name="小明 王", username="wangxm")
    text = "王小明和小明王都是我，另一个名字王大锤，邮箱wangxm@example.com，用户名 @wangxm"
    out = masked_for_officials(text, account, extra_names=["王大锤"])
    for secret in ("王小明", "小明", "王大锤", "wangxm"):
        assert secret not in out, out
    assert out.count("某某") >= 4


def test_latin_names_only_whole_words() -> None:
    out = mask_pii("Zhang San called; Sandra did not. zhangsan too", names=["San Zhang"])
    assert "Zhang San" not in out and "zhangsan" not in out.lower()
    assert "Sandra" in out


def test_untouched_text_keeps_its_characters() -> None:
    text = "（２０２３）苏０９民初１２３号，电话１３８１２３４５６７８，欠款３８０万元"
    out = mask_pii(text)
    assert out == "（２０２３）苏０９民初１２３号，电话138****5678，欠款３８０万元"


@pytest.mark.parametrize("number,original,mime,expected", [
    (1, "张三身份证.pdf", None, "证据1.pdf"),
    (2, "张三身份证.PDF", None, "证据2.pdf"),
    (3, "合同 扫描件.jpeg", "image/jpeg", "证据3.jpeg"),
    (4, None, "image/jpeg", "证据4.jpg"),
    (5, "没有扩展名", None, "证据5"),
    (6, "奇怪.张三", "application/pdf", "证据6.pdf"),
    (7, "../../etc/passwd", None, "证据7"),
    (8, "录音.ＭＰ３", None, "证据8.mp3"),
])
def test_neutral_file_names(number, original, mime, expected) -> None:
    assert neutral_file_name(number, original, mime) == expected


def test_case_masking_uses_the_account_names() -> None:
    now = datetime(2026, 11, 27, tzinfo=timezone.utc)
    account = Account(full_name="三 张", username=None, created_at=now, last_seen_at=now)
    assert masked_for_officials("我是张三，电话138 1234 5678", account) == "我是某某，电话138****5678"
