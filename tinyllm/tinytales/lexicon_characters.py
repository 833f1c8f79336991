"""Who the stories are about: hero names and animal species, in English and Chinese.

Taught in notebook 00 (the corpus). Every entry is one bilingual record, so a story planned once
can be told in either language: entry ``i`` of ``NAMES`` is "Mia" in English and "小美" in
Chinese. The grammar draws from these lists with a seeded ``random.Random``; their order is
part of the corpus, so append new entries at the end (or bump ``CORPUS_VERSION``).
"""

from __future__ import annotations

from typing import NamedTuple


class Name(NamedTuple):
    en: str
    zh: str
    gender: str  # "f" or "m": picks he/she, him/her, 他/她


class Species(NamedTuple):
    en: str
    zh: str
    mw: str  # the Chinese measure word: 一只兔子, 一头大象, 一匹马, 一条鱼


_FEMALE = [
    ("Mia", "小美"), ("Lily", "莉莉"), ("Emma", "朵朵"), ("Anna", "安妮"), ("Lucy", "露西"),
    ("Rosa", "玉兰"), ("Ella", "小雪"), ("Nora", "晓晓"), ("Zoe", "彤彤"), ("Ivy", "芳芳"),
    ("Ruby", "婷婷"), ("Daisy", "静静"), ("Hazel", "甜甜"), ("Luna", "欢欢"), ("Stella", "月月"),
    ("Clara", "星星"), ("Alice", "花花"), ("Grace", "圆圆"), ("Hannah", "珍珍"), ("Maya", "丽丽"),
    ("Sophie", "佳佳"), ("Chloe", "琪琪"), ("Olive", "思思"), ("Poppy", "悠悠"), ("Tilly", "蓉蓉"),
    ("Wendy", "菲菲"), ("Fiona", "秀秀"), ("Greta", "梅梅"), ("Holly", "青青"), ("Iris", "燕燕"),
    ("Jenny", "云云"), ("Kate", "霞霞"), ("Lola", "萍萍"), ("Molly", "娜娜"), ("Nina", "妮妮"),
    ("Penny", "瑶瑶"), ("Rita", "薇薇"), ("Sara", "慧慧"), ("Tara", "翠翠"), ("Willa", "莹莹"),
    ("Amber", "琳琳"), ("Bella", "媛媛"), ("Cora", "蕾蕾"), ("Dora", "倩倩"), ("Edith", "雯雯"),
    ("Freya", "露露"), ("Gemma", "丹丹"), ("Heidi", "红红"), ("Isla", "玲玲"), ("Julia", "雪儿"),
    ("Kira", "梦梦"), ("Leah", "兰兰"), ("Mabel", "美美"), ("Nell", "笑笑"), ("Opal", "诗诗"),
    ("Pearl", "珠珠"), ("Rhea", "彩彩"), ("Sadie", "春春"), ("Thea", "秋秋"), ("Una", "夏夏"),
]
_MALE = [
    ("Tom", "小明"), ("Max", "乐乐"), ("Leo", "豆豆"), ("Ben", "阿文"), ("Sam", "小虎"),
    ("Jack", "壮壮"), ("Finn", "亮亮"), ("Oscar", "冬冬"), ("Theo", "强强"), ("Hugo", "飞飞"),
    ("Eli", "阳阳"), ("Noah", "浩浩"), ("Owen", "磊磊"), ("Luke", "鹏鹏"), ("Adam", "军军"),
    ("Bruno", "涛涛"), ("Carl", "森森"), ("Dan", "杰杰"), ("Eddie", "凯凯"), ("Felix", "波波"),
    ("George", "东东"), ("Harry", "龙龙"), ("Ivan", "石头"), ("Jonah", "小山"), ("Kai", "小海"),
    ("Louis", "小川"), ("Milo", "小林"), ("Ned", "天天"), ("Otto", "元元"), ("Pete", "毛毛"),
    ("Quinn", "胖胖"), ("Ravi", "果果"), ("Simon", "球球"), ("Toby", "牛牛"), ("Victor", "航航"),
    ("Walter", "俊俊"), ("Yuri", "栋栋"), ("Zack", "辉辉"), ("Arlo", "宁宁"), ("Basil", "康康"),
    ("Alfie", "健健"), ("Bobby", "勇勇"), ("Caleb", "刚刚"), ("Dylan", "松松"), ("Ethan", "柏柏"),
    ("Frank", "平平"), ("Gus", "安安"), ("Henry", "乐天"), ("Ian", "大力"), ("Jasper", "虎子"),
    ("Kevin", "铁蛋"), ("Lenny", "阿福"), ("Marco", "小宝"), ("Nico", "嘟嘟"), ("Ollie", "聪聪"),
    ("Percy", "明明"), ("Rory", "跳跳"), ("Seth", "岩岩"), ("Tim", "峰峰"), ("Vince", "旺旺"),
]

#: Hero and companion names. Female and male names alternate so that any prefix is balanced.
NAMES: list[Name] = [
    Name(en, zh, g)
    for pair in zip(_FEMALE, _MALE, strict=True)
    for (en, zh), g in zip(pair, ("f", "m"), strict=True)
]

#: Animal species of the characters, with the Chinese measure word each one takes.
SPECIES: list[Species] = [
    Species(*row)
    for row in [
        ("rabbit", "兔子", "只"), ("bear", "熊", "只"), ("fox", "狐狸", "只"),
        ("owl", "猫头鹰", "只"), ("mouse", "老鼠", "只"), ("cat", "小猫", "只"),
        ("dog", "小狗", "只"), ("duck", "鸭子", "只"), ("frog", "青蛙", "只"),
        ("squirrel", "松鼠", "只"), ("hedgehog", "刺猬", "只"), ("deer", "小鹿", "只"),
        ("elephant", "大象", "头"), ("horse", "马", "匹"), ("pony", "小马", "匹"),
        ("fish", "鱼", "条"), ("dolphin", "海豚", "条"), ("whale", "鲸鱼", "头"),
        ("cow", "奶牛", "头"), ("goat", "山羊", "只"), ("lamb", "小羊", "只"),
        ("tiger", "老虎", "只"), ("lion", "狮子", "头"), ("monkey", "猴子", "只"),
        ("panda", "熊猫", "只"), ("penguin", "企鹅", "只"), ("turtle", "乌龟", "只"),
        ("chick", "小鸡", "只"), ("goose", "鹅", "只"), ("beaver", "河狸", "只"),
        ("otter", "水獭", "只"), ("zebra", "斑马", "匹"), ("wolf", "狼", "只"),
        ("raccoon", "浣熊", "只"), ("koala", "考拉", "只"), ("kitten", "猫咪", "只"),
    ]
]
