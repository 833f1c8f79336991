"""The plot arcs: what happens between the opening and the ending.

Taught in notebook 00 (the corpus). Each arc is an ordered list of beats (see ``templates.py``).
Core beats (``p=1.0``) always appear, so even a short story has a problem and a resolution;
the others appear with probability ``p`` in full-length stories. Beats split into happy and sad
templates where the ending changes what happens.
"""

from __future__ import annotations

from tinyllm.tinytales.templates import Beat

LOST_AND_FOUND = [
    Beat("problem", 1.0, (
        ("{then}, {hero} could not find {his} {obj}.", "{then}，{hero}找不到{ta}的{obj}了。"),
        ("One day, {hero} lost {his} {obj}.", "有一天，{hero}把{ta}的{obj}弄丢了。"),
        ("{hero} looked everywhere, but the {obj} was gone.", "{hero}到处看了看，可是{obj}不见了。"),
    )),
    Beat("feeling", 0.7, (
        ("{hero} felt {bad} and started to cry.", "{hero}觉得很{bad}，哭了起来。"),
        ('"Where is my {obj}?" asked {hero}.', "{hero}问：“我的{obj}在哪里？”"),
    )),
    Beat("search", 0.8, (
        ("{hero} searched all over {place}.", "{hero}{in_place}到处找。"),
        ("{hero} asked {friend} the {friend_species} for help.", "{hero}请{friend_species}{friend}帮忙。"),
        ("{hero} and {friend} looked high and low.", "{hero}和{friend}上上下下到处寻找。"),
    )),
    Beat("found", 1.0, happy=(
        ("At last, {hero} found the {obj} {spot}.", "最后，{hero}{spot}找到了{obj}。"),
        ("The {obj} had been {spot} all along.", "原来{obj}一直{spot}。"),
    ), sad=(
        ("{hero} looked until dark, but the {obj} was never found.", "{hero}一直找到天黑，可是{obj}再也没有找到。"),
        ("{hero} found the {obj} {spot}, but it was broken.", "{hero}{spot}找到了{obj}，可是它已经坏了。"),
    )),
    Beat("after", 0.6, happy=(
        ("{hero} hugged the {obj} tight.", "{hero}紧紧地抱住了{obj}。"),
        ('"Thank you for helping me, {friend}!" said {hero}.', "{hero}说：“{friend}，谢谢你帮我！”"),
    ), sad=(
        ("{hero} held {his} old {obj} and sighed.", "{hero}想着{ta}的旧{obj}，叹了一口气。"),
    )),
]

MAKING_A_FRIEND = [
    Beat("lonely", 0.8, (
        ("{hero} had no one to play with and felt {bad}.", "{hero}没有人一起玩，觉得很{bad}。"),
        ("Every day, {hero} played alone with {his} {obj}.", "每天，{hero}都一个人玩{ta}的{obj}。"),
    )),
    Beat("meet", 1.0, (
        ("{then}, {hero} met {a_friend_species} named {friend}.", "{then}，{hero}遇见了{a_friend_species}，名叫{friend}。"),
        ("One day, {a_friend_species} called {friend} came to {place}.", "有一天，{a_friend_species}{friend}来到了{place}。"),
    )),
    Beat("talk", 0.8, (
        ('"Hello, will you be my friend?" asked {hero}.', "{hero}问：“你好，你愿意做我的朋友吗？”"),
        ("{friend} was shy at first.", "{friend}一开始有点害羞。"),
    )),
    Beat("play", 0.7, (
        ("{hero} and {friend} played with the {obj} all afternoon.", "{hero}和{friend}一整个下午都在玩{obj}。"),
        ("Together they spent the day {act_ing}.", "他们一起{act}，玩了一整天。"),
    )),
    Beat("bond", 1.0, happy=(
        ("{hero} and {friend} became best friends.", "{hero}和{friend}成了最好的朋友。"),
        ('"I am so glad I met you," said {friend}.', "{friend}说：“认识你我真高兴。”"),
    ), sad=(
        ("But the next day, {friend} had to move far away.", "可是第二天，{friend}就要搬到很远的地方去了。"),
        ("{hero} waved goodbye to {friend} from the hill.", "{hero}站在小山上向{friend}挥手告别。"),
    )),
]

OVERCOMING_A_FEAR = [
    Beat("fear", 1.0, (
        ("{hero} was afraid of {fear}.", "{hero}很害怕{fear}。"),
        ("More than anything, {hero} was scared of {fear}.", "{hero}最怕的就是{fear}。"),
    )),
    Beat("challenge", 0.8, (
        ("One day, {hero} had to face {fear} to get {his} {obj} back.", "有一天，{hero}必须面对{fear}，才能拿回{ta}的{obj}。"),
        ("{hero}'s heart beat fast when {he} thought of {fear}.", "一想到{fear}，{hero}的心就怦怦直跳。"),
    )),
    Beat("help", 0.7, (
        ("{friend} the {friend_species} held {hero}'s hand.", "{friend_species}{friend}拉住了{hero}的手。"),
        ('"You can do it," said {friend}.', "{friend}说：“你能做到的。”"),
    )),
    Beat("face", 1.0, happy=(
        ("{hero} took a deep breath and was brave.", "{hero}深深地吸了一口气，勇敢了起来。"),
        ("In the end, {hero} was not afraid of {fear} anymore.", "最后，{hero}再也不怕{fear}了。"),
    ), sad=(
        ("{hero} tried, but {he} was still too scared.", "{hero}试了试，可是还是太害怕了。"),
        ("{hero} ran home and hid under {his} blanket.", "{hero}跑回家，躲进了被子里。"),
    )),
    Beat("proud", 0.6, happy=(
        ("{hero} felt very proud of {himself}.", "{hero}为自己感到非常骄傲。"),
    ), sad=(
        ("{hero} wished {he} could be braver.", "{hero}希望自己能更勇敢一些。"),
    )),
]

SHARING = [
    Beat("want", 1.0, (
        ("{friend} the {friend_species} looked at the {obj} with big eyes.", "{friend_species}{friend}睁大眼睛看着{obj}。"),
        ("{friend} wished for {a_obj} too.", "{friend}也很想要{a_obj}。"),
    )),
    Beat("choice", 1.0, happy=(
        ('{hero} said, "Let us share my {obj}."', "{hero}说：“我们一起玩我的{obj}吧。”"),
        ("{hero} decided to share {his} {obj} with {friend}.", "{hero}决定和{friend}一起分享{ta}的{obj}。"),
    ), sad=(
        ('"No, it is mine," said {hero}.', "{hero}说：“不行，这是我的。”"),
        ("{hero} held the {obj} tight and would not share.", "{hero}紧紧抓着{obj}，不肯分享。"),
    )),
    Beat("after", 0.8, happy=(
        ("They took turns and laughed together.", "他们轮流玩，一起哈哈大笑。"),
        ("Sharing the {obj} made the game twice as fun.", "一起分享{obj}，让游戏变得加倍好玩。"),
    ), sad=(
        ("{friend} walked away {adverb}, and {hero} played alone.", "{friend}{adverb}走开了，{hero}只好一个人玩。"),
        ("Playing alone with the {obj} was not much fun.", "一个人玩{obj}一点儿也不好玩。"),
    )),
    Beat("treat", 0.5, happy=(
        ("Later, they shared some {food} too.", "后来，他们还一起分享了一些{food}。"),
    ), sad=(
        ("Later, {hero} ate {food} all alone.", "后来，{hero}一个人吃了{food}。"),
    )),
]

A_RACE = [
    Beat("challenge", 1.0, (
        ('{friend} the {friend_species} said, "Let us race to {landmark}!"', "{friend_species}{friend}说：“我们比赛跑到{landmark}吧！”"),
        ("{hero} and {friend} decided to have a race to {landmark}.", "{hero}和{friend}决定比赛，看谁先跑到{landmark}。"),
    )),
    Beat("start", 0.8, (
        ('"Ready, set, go!" shouted {hero}.', "{hero}大喊：“预备，开始！”"),
        ("They ran as fast as they could.", "他们拼命地往前跑。"),
    )),
    Beat("middle", 0.7, (
        ("{friend} was fast, but {hero} did not give up.", "{friend}跑得很快，可是{hero}没有放弃。"),
        ("Halfway to {landmark}, {hero} tripped over a stone.", "跑到{landmark}的半路上，{hero}被一块石头绊了一下。"),
    )),
    Beat("finish", 1.0, happy=(
        ("{hero} reached {landmark} first and cheered.", "{hero}第一个跑到了{landmark}，高兴地欢呼起来。"),
        ("In the end, it was a tie, and they both laughed.", "最后，他们同时到达，两个人都笑了。"),
    ), sad=(
        ("{friend} reached {landmark} first, and {hero} felt {bad}.", "{friend}先跑到了{landmark}，{hero}觉得很{bad}。"),
        ("{hero} lost the race and sat down on the grass.", "{hero}输掉了比赛，坐在了草地上。"),
    )),
    Beat("after", 0.6, happy=(
        ('"Good race!" said {friend}.', "{friend}说：“比得真好！”"),
    ), sad=(
        ('"Maybe next time," said {friend}.', "{friend}说：“也许下次你会赢。”"),
    )),
]

A_RAINY_DAY = [
    Beat("rain", 1.0, (
        ("{then}, dark clouds came and it began to rain.", "{then}，乌云飘来，下起了雨。"),
        ("Rain was falling on {place}, so {hero} could not go out.", "{in_place}下着雨，{hero}不能出去玩。"),
    )),
    Beat("feeling", 0.8, (
        ("{hero} looked out of the window and felt {bad}.", "{hero}看着窗外，觉得很{bad}。"),
        ('"I wanted to play outside," said {hero}.', "{hero}说：“我想出去玩。”"),
    )),
    Beat("idea", 0.7, (
        ("{hero} had an idea and got out {his} {obj}.", "{hero}想到了一个好主意，拿出了{ta}的{obj}。"),
        ("{friend} came over with some {food}.", "{friend}带着一些{food}来玩了。"),
    )),
    Beat("clear", 1.0, happy=(
        ("Soon the rain stopped, and a rainbow filled the sky.", "不久，雨停了，天上出现了一道彩虹。"),
        ("The rainy day turned out to be fun after all.", "原来下雨天也可以很好玩。"),
    ), sad=(
        ("The rain did not stop all day.", "雨下了一整天都没有停。"),
        ("The {obj} got wet in the rain.", "{obj}被雨淋湿了。"),
    )),
]

A_BIRTHDAY = [
    Beat("day", 1.0, (
        ("It was {hero}'s birthday, and {he} was very excited.", "今天是{hero}的生日，{ta}非常兴奋。"),
        ("{hero} woke up and remembered that it was {his} birthday.", "{hero}醒来后想起今天是{ta}的生日。"),
    )),
    Beat("party", 0.8, (
        ("{friend} and the other animals came to the party.", "{friend}和其他小动物都来参加聚会了。"),
        ("They ate {food} and cake together.", "他们一起吃了{food}和蛋糕。"),
    )),
    Beat("gift", 1.0, (
        ("{friend} gave {hero} {a_gift}.", "{friend}送给{hero}{a_gift}。"),
        ("{hero} opened a box and found {a_gift} inside.", "{hero}打开盒子，发现里面有{a_gift}。"),
    )),
    Beat("react", 0.8, happy=(
        ("{hero} loved the {gift} and said thank you.", "{hero}非常喜欢{gift}，说了声谢谢。"),
        ('"This is the best birthday ever!" said {hero}.', "{hero}说：“这是我过得最好的生日！”"),
    ), sad=(
        ("But the {gift} broke on the way home.", "可是在回家的路上，{gift}坏了。"),
        ("It started to rain, and the party ended early.", "天下起了雨，聚会早早就结束了。"),
    )),
    Beat("dance", 0.5, happy=(
        ("They sang and danced until the sun went down.", "他们唱歌跳舞，一直玩到太阳下山。"),
    )),
]

HELPING_SOMEONE = [
    Beat("need", 1.0, (
        ("{then}, {hero} saw {friend} the {friend_species} trying to {chore}.", "{then}，{hero}看见{friend_species}{friend}正在努力地{chore}。"),
        ("{friend} needed help to {chore}.", "{friend}需要有人帮忙{chore}。"),
    )),
    Beat("offer", 0.8, (
        ('"Can I help you?" asked {hero}.', "{hero}问：“我可以帮你吗？”"),
        ("{hero} put down {his} {obj} and ran over to help.", "{hero}放下{ta}的{obj}，跑过去帮忙。"),
    )),
    Beat("work", 1.0, happy=(
        ("Together, they {chore_past} in no time.", "他们一起{chore}，很快就做完了。"),
        ("{hero} worked hard, and {friend} smiled.", "{hero}干得很卖力，{friend}笑了。"),
    ), sad=(
        ("They tried hard, but the job was too big for them.", "他们很努力，可是这件事对他们来说太难了。"),
        ("{hero} tried to help, but {he} was too small.", "{hero}想帮忙，可是{ta}太小了。"),
    )),
    Beat("thanks", 0.7, happy=(
        ('"Thank you, {hero}," said {friend}.', "{friend}说：“谢谢你，{hero}。”"),
        ("{friend} gave {hero} some {food} to say thank you.", "{friend}送给{hero}一些{food}表示感谢。"),
    ), sad=(
        ("{friend} still said thank you, but {hero} felt {bad}.", "{friend}还是说了谢谢，可是{hero}觉得很{bad}。"),
    )),
]

A_MISTAKE_AND_AN_APOLOGY = [
    Beat("play", 1.0, (  # core: the friend must be introduced before the accident
        ("{then}, {hero} was playing with {friend} {in_place}.", "{then}，{hero}和{friend}{in_place}玩。"),
    )),
    Beat("accident", 1.0, (
        ("By accident, {hero} {mistake}.", "{hero}不小心{mistake}。"),
        ("While running around, {hero} {mistake}.", "跑着跑着，{hero}{mistake}。"),
    )),
    Beat("upset", 0.8, (
        ("{friend} was very upset.", "{friend}非常难过。"),
        ("{hero} felt {bad} and did not know what to do.", "{hero}觉得很{bad}，不知道该怎么办。"),
    )),
    Beat("sorry", 1.0, happy=(
        ('"I am sorry," said {hero}.', "{hero}说：“对不起。”"),
        ("{hero} said sorry and helped to clean everything up.", "{hero}道了歉，还帮忙把一切都收拾好了。"),
    ), sad=(
        ("{hero} was too shy to say sorry.", "{hero}太害羞了，没有说对不起。"),
        ("{hero} ran away and hid {spot}.", "{hero}跑开了，躲{spot}。"),
    )),
    Beat("forgive", 0.7, happy=(
        ('{friend} smiled and said, "It is okay."', "{friend}笑着说：“没关系。”"),
        ("After that, {hero} was always more careful.", "从那以后，{hero}总是更小心了。"),
    )),
]

A_JOURNEY = [
    Beat("wish", 1.0, (
        ("{hero} wanted to visit {place2}.", "{hero}想去{place2}看看。"),
        ("{hero} had heard about {place2} and wanted to see it.", "{hero}听说过{place2}，很想去看一看。"),
    )),
    Beat("pack", 0.8, (
        ("{hero} packed {his} {obj} and some {food}.", "{hero}带上了{ta}的{obj}和一些{food}。"),
        ("Early in the morning, {hero} said goodbye and set off.", "一大早，{hero}说了再见，就出发了。"),
    )),
    Beat("road", 0.7, (
        ("The road was long, and {hero} walked {adverb}.", "路很长，{hero}{adverb}走着。"),
        ("On the road, {hero} met {friend} the {friend_species}.", "在路上，{hero}遇见了{friend_species}{friend}。"),
    )),
    Beat("arrive", 1.0, happy=(
        ("At last, {hero} arrived at {place2}.", "最后，{hero}终于到达了{place2}。"),
        ("{Place2} was even more beautiful than {hero} had dreamed.", "{place2}比{hero}梦里的还要美。"),
    ), sad=(
        ("It got dark, and {hero} could not find the way to {place2}.", "天黑了，{hero}找不到去{place2}的路。"),
        ("{hero} was too tired and had to turn back.", "{hero}太累了，只好往回走。"),
    )),
    Beat("home", 0.6, (
        ("Back {in_place}, {hero} told everyone about the trip.", "回到{place}以后，{hero}把路上的事讲给大家听。"),
    )),
]

PLANTING_A_SEED = [
    Beat("seed", 1.0, (
        ("{hero} found {a_seed}.", "{hero}找到了{a_seed}。"),
        ("{friend} gave {hero} {a_seed}.", "{friend}送给{hero}{a_seed}。"),
    )),
    Beat("plant", 0.8, (
        ("{hero} planted it {in_place} and watered it every day.", "{hero}把它种{in_place}，每天都给它浇水。"),
        ("{hero} dug a little hole and put the seed inside.", "{hero}挖了一个小洞，把种子放了进去。"),
    )),
    Beat("wait", 0.7, (
        ("{hero} waited and waited, but nothing happened.", "{hero}等啊等，可是什么也没有发生。"),
        ("Every morning, {hero} checked on the seed.", "每天早上，{hero}都去看看那颗种子。"),
    )),
    Beat("grow", 1.0, happy=(
        ("One morning, a tiny green shoot came up.", "一天早上，一棵小小的绿芽冒了出来。"),
        ("Soon the {plant} grew tall and beautiful.", "不久，{plant}长得又高又漂亮。"),
    ), sad=(
        ("But a hungry bird ate the seed.", "可是一只饥饿的小鸟把种子吃掉了。"),
        ("The {plant} never grew.", "{plant}一直没有长出来。"),
    )),
]

GETTING_LOST = [
    Beat("wander", 1.0, (
        ("{hero} chased a butterfly deep into {place2}.", "{hero}追着一只蝴蝶，走进了{place2}深处。"),
        ("{hero} went for a walk and wandered into {place2}.", "{hero}出去散步，不知不觉走进了{place2}。"),
    )),
    Beat("lost", 0.8, (
        ("Soon, {hero} did not know where {he} was.", "很快，{hero}就不知道自己在哪里了。"),
        ("Everything looked strange, and {hero} felt {bad}.", "周围的一切都很陌生，{hero}觉得很{bad}。"),
    )),
    Beat("call", 0.7, (
        ('{hero} called out, "Is anyone there?"', "{hero}大声喊：“有人吗？”"),
        ("{hero} held {his} {obj} tight for comfort.", "{hero}紧紧抱着{ta}的{obj}，给自己壮胆。"),
    )),
    Beat("home", 1.0, happy=(
        ("{friend} the {friend_species} heard {him} and showed {him} the way home.", "{friend_species}{friend}听见了，给{ta}指了回家的路。"),
        ("{hero} saw the lights of home and ran back.", "{hero}看见了家里的灯光，赶紧跑了回去。"),
    ), sad=(
        ("{hero} sat down {spot} and waited until morning.", "{hero}{spot}坐下来，一直等到天亮。"),
        ("{hero} walked all night and got very tired.", "{hero}走了一整夜，累坏了。"),
    )),
]

#: The plot arcs, in a fixed order (the order is part of the corpus).
ARCS: dict[str, list[Beat]] = {
    "lost_and_found": LOST_AND_FOUND,
    "making_a_friend": MAKING_A_FRIEND,
    "overcoming_a_fear": OVERCOMING_A_FEAR,
    "sharing": SHARING,
    "a_race": A_RACE,
    "a_rainy_day": A_RAINY_DAY,
    "a_birthday": A_BIRTHDAY,
    "helping_someone": HELPING_SOMEONE,
    "a_mistake_and_an_apology": A_MISTAKE_AND_AN_APOLOGY,
    "a_journey": A_JOURNEY,
    "planting_a_seed": PLANTING_A_SEED,
    "getting_lost": GETTING_LOST,
}
