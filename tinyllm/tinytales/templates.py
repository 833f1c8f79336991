"""Story beats and the sentence templates that can fill them: the opening, the middle, the end.

Taught in notebook 00 (the corpus). A story is a sequence of *beats* (introduce the hero,
introduce the object, ..., the ending). Each beat offers several sentence *templates*, written
as (English, Chinese) pairs with the same slots, so one story plan renders in either language.
A beat can have separate templates for happy and sad endings. The plot arcs live in
``arcs.py``; this module holds the beats every story shares.
"""

from __future__ import annotations

from typing import NamedTuple

Pair = tuple[str, str]  # (English template, Chinese template)


class Beat(NamedTuple):
    name: str
    p: float  # chance of appearing in a full-length story; 1.0 = always (a core beat)
    both: tuple[Pair, ...] = ()  # templates for either ending
    happy: tuple[Pair, ...] = ()
    sad: tuple[Pair, ...] = ()

    def choices(self, ending: str) -> tuple[Pair, ...]:
        return self.both or (self.happy if ending == "happy" else self.sad)


OPENING = Beat("opening", 1.0, (
    ("Once upon a time, there was {a_species} named {hero} who lived {in_place}.",
     "从前，{in_place}住着{a_species}，名叫{hero}。"),
    ("{hero} was {a_species} who lived {in_place}.", "{hero}是{a_species}，住{in_place}。"),
    ("There once was {a_species} called {hero}, and {he} lived {in_place}.",
     "从前有{a_species}叫{hero}，{ta}住{in_place}。"),
    ("{In_place} lived {a_species} named {hero}.", "{in_place}住着{a_species}，名字叫{hero}。"),
    ("Long ago, {a_species} named {hero} made {his} home {in_place}.",
     "很久以前，{a_species}{hero}把家安{in_place}。"),
    ("{hero} the {species} lived {in_place} with {his} family.",
     "{species}{hero}和家人一起住{in_place}。"),
    ("Not far away, {in_place}, lived {a_species} named {hero}.",
     "不远的地方，{in_place}住着{a_species}，名叫{hero}。"),
    ("Every morning, {hero} the {species} woke up {in_place}.",
     "每天早上，{species}{hero}都{in_place}醒来。"),
    ("In a cosy home {in_place}, there lived {a_species} named {hero}.",
     "{in_place}有一个温暖的家，家里住着{a_species}，名叫{hero}。"),
))

TRAIT = Beat("trait", 0.55, (
    ("{hero} was very {trait}.", "{hero}非常{trait}。"),
    ("{He} loved to {act} with {his} friends.", "{ta}最喜欢和朋友们一起{act}。"),
    ("{hero} was {trait}, and everyone liked {him}.", "{hero}很{trait}，大家都喜欢{ta}。"),
    ("Every day, {hero} liked {act_ing}.", "每天，{hero}都喜欢{act}。"),
    ("{His} favourite food was {food}.", "{ta}最喜欢吃的东西是{food}。"),
    ("{hero} was small, but {he} was very {trait}.", "{hero}个子小小的，但是非常{trait}。"),
    ("On sunny days, {hero} spent hours {act_ing}.", "天气好的时候，{hero}常常花好几个小时{act}。"),
    ("{hero} had a soft voice and a big smile.", "{hero}说话轻声细语，脸上总是带着大大的笑容。"),
))

OBJECT = Beat("object", 1.0, (
    ("{hero} had {a_cobj}.", "{hero}有{a_cobj}。"),
    ("{His} favourite thing in the world was {a_cobj}.", "{ta}最喜欢的东西是{a_cobj}。"),
    ("{hero}'s grandma had given {him} {a_cobj}.", "奶奶送给了{hero}{a_cobj}。"),
    ("{hero} always carried {a_cobj} wherever {he} went.", "{hero}不管去哪里，都带着{a_cobj}。"),
    ("Next to {hero}'s bed there was {a_cobj}.", "{hero}的床边放着{a_cobj}。"),
    ("The best present {hero} ever got was {a_cobj}.", "{hero}收到过的最好的礼物是{a_cobj}。"),
    ("{hero} loved {his} {colour} {obj} very much.", "{hero}非常喜欢{ta}的{colour}{obj}。"),
))

DAY = Beat("day", 0.45, (
    ("{time}, the weather was {weather}.", "{time}，天气{weather}。"),
    ("{time}, {hero} woke up early.", "{time}，{hero}很早就醒了。"),
    ("{time}, {hero} went outside to play.", "{time}，{hero}到外面去玩。"),
    ("{time}, {hero} looked out of the window.", "{time}，{hero}朝窗外望去。"),
    ("The air {in_place} smelled of fresh flowers.", "{in_place}，空气里满是花香。"),
    ("{hero} had {food} for breakfast.", "{hero}早饭吃了{food}。"),
    ("Outside the window, {a_creature} was playing.", "窗外，{a_creature}正在玩耍。"),
))

#: Optional sentences that can be slipped between two plot beats.
FILLER = Beat("filler", 0.5, (
    ("On the way, {hero} saw {a_sight}.", "路上，{hero}看见了{a_sight}。"),
    ("{suddenly}, {hero} heard {a_sound}.", "{suddenly}，{hero}听到了{a_sound}。"),
    ("{hero} stopped to eat some {food}.", "{hero}停下来吃了一些{food}。"),
    ("{hero} walked {adverb} and saw {a_sight}.", "{hero}{adverb}走着，看见了{a_sight}。"),
    ("The sun was warm, and the birds were singing.", "太阳暖暖的，小鸟在唱歌。"),
    ('"What a lovely day!" said {hero}.', "{hero}说：“今天真是美好的一天！”"),
    ("{hero} thought about {his} {obj} and smiled.", "{hero}想起了{ta}的{obj}，笑了。"),
    ("A soft wind blew through {place}.", "一阵轻柔的风吹过{place}。"),
    ("{hero} felt a little {bad}, but {he} kept going.", "{hero}有点儿{bad}，但还是继续往前走。"),
    ("{hero} pointed at {a_sight} and laughed.", "{hero}指着{a_sight}哈哈大笑。"),
    ('"{exclaim}!" said {hero}.', "{hero}说：“{exclaim}！”"),
    ('{hero} looked around and said, "{exclaim}!"', "{hero}看了看四周，说：“{exclaim}！”"),
    ("Near the path, {hero} spotted {a_creature}.", "{hero}在小路边发现了{a_creature}。"),
    ("{hero} watched {a_creature} for a long time.", "{hero}看着{a_creature}，看了很久。"),
))

ENDING = Beat("ending", 1.0, happy=(
    ("From that day on, {hero} was always {good}.", "从那天起，{hero}每天都很{good}。"),
    ("That night, {hero} went to sleep feeling {good}.", "那天晚上，{hero}带着{good}的心情睡着了。"),
    ("{hero} smiled, because it had been a wonderful day.", "{hero}笑了，因为这是美好的一天。"),
    ("And {hero} lived happily {in_place} for many years.", "从此，{hero}{in_place}快快乐乐地生活了很多年。"),
    ("{hero} laughed and hugged {his} {obj}.", "{hero}笑着抱住了{ta}的{obj}。"),
    ("It was the best day {hero} had ever had.", "这是{hero}过得最开心的一天。"),
    ("{hero} walked home {adverb}, feeling {good}.", "{hero}{adverb}走回家，心里很{good}。"),
    ("And that was the end of a very good day.", "美好的一天就这样结束了。"),
), sad=(
    ("That night, {hero} went to bed feeling {bad}.", "那天晚上，{hero}带着{bad}的心情上床睡觉了。"),
    ("{hero} sat alone {in_place} for a long time.", "{hero}一个人{in_place}坐了很久。"),
    ("It was not a happy day for {hero}.", "对{hero}来说，这不是开心的一天。"),
    ("{hero} sighed and walked home {adverb}.", "{hero}叹了口气，{adverb}走回了家。"),
    ("A little tear rolled down {hero}'s face.", "一滴眼泪从{hero}的脸上流了下来。"),
    ("{hero} hoped that tomorrow would be a better day.", "{hero}希望明天会是更好的一天。"),
))
