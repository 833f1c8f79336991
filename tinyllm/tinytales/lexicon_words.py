"""The words that move a story along: time words, connectives, feelings, traits, manners,
activities, chores, fears, mistakes and the weather.

Taught in notebook 00 (the corpus). Verbs carry their English forms (base / past / -ing); Chinese
has no tense inflection, so one Chinese string serves all three.
"""

from __future__ import annotations

from typing import NamedTuple

from tinyllm.tinytales.lexicon_things import Pair


class Verb(NamedTuple):
    en: str  # base form: "fly a kite"
    past: str  # "flew a kite"
    ing: str  # "flying a kite"
    zh: str  # "放风筝"


def _pairs(rows: list[tuple[str, str]]) -> list[Pair]:
    return [Pair(*row) for row in rows]


#: Sentence-opening time phrases.
TIMES = _pairs([
    ("One sunny morning", "一个晴朗的早晨"), ("One rainy afternoon", "一个下雨的下午"),
    ("One windy day", "一个刮风的日子"), ("Early one morning", "一天清早"),
    ("One quiet evening", "一个安静的傍晚"), ("On a warm summer day", "在一个温暖的夏日"),
    ("On a cold winter morning", "在一个寒冷的冬天早晨"), ("One bright spring day", "一个明媚的春日"),
    ("On a cool autumn day", "在一个凉爽的秋日"), ("One Sunday morning", "一个星期天的早上"),
    ("One Saturday", "一个星期六"), ("Late one afternoon", "一天傍晚"),
    ("One foggy morning", "一个起雾的早晨"), ("One snowy afternoon", "一个下雪的下午"),
    ("At sunrise", "太阳升起的时候"), ("After breakfast", "吃完早饭以后"),
    ("After lunch", "吃完午饭以后"), ("One Monday", "一个星期一"),
    ("On a hot afternoon", "在一个炎热的下午"), ("One fine day", "有一天"),
    ("On the first day of spring", "在春天的第一天"), ("One holiday morning", "一个假日的早上"),
])

#: Connectives that move to the next event ("Then, ..." / "然后，...").
THENS = _pairs([
    ("Then", "然后"), ("Soon", "不久"), ("After a while", "过了一会儿"), ("Later", "后来"),
    ("Next", "接着"), ("A moment later", "片刻之后"), ("That afternoon", "那天下午"),
    ("Before long", "没过多久"), ("The next day", "第二天"), ("One day", "有一天"),
    ("A few days later", "几天以后"), ("That morning", "那天早上"),
])

#: Connectives for a surprise.
SUDDENLYS = _pairs([
    ("Suddenly", "突然"), ("All of a sudden", "忽然"), ("Just then", "就在这时"),
    ("At that very moment", "就在那一刻"), ("Without warning", "毫无预兆地"),
    ("Right then", "正在这时"),
])

#: Good and bad feelings; the checker and the labeler later use the split.
GOOD_FEELINGS = _pairs([
    ("happy", "开心"), ("glad", "高兴"), ("proud", "自豪"), ("excited", "兴奋"),
    ("calm", "平静"), ("thankful", "感激"), ("cheerful", "快乐"), ("hopeful", "充满希望"),
    ("relieved", "放心"),
])
BAD_FEELINGS = _pairs([
    ("sad", "难过"), ("scared", "害怕"), ("lonely", "孤单"), ("worried", "担心"),
    ("angry", "生气"), ("upset", "沮丧"), ("nervous", "紧张"), ("grumpy", "烦躁"),
    ("tired", "疲倦"), ("confused", "困惑"),
])

#: What kind of character the hero is ("Mia was very brave." / "小美非常勇敢。").
TRAITS = _pairs([
    ("brave", "勇敢"), ("kind", "善良"), ("curious", "好奇"), ("clever", "聪明"),
    ("gentle", "温柔"), ("funny", "有趣"), ("shy", "害羞"), ("playful", "爱玩"),
    ("helpful", "乐于助人"), ("quiet", "安静"), ("busy", "忙碌"), ("careful", "细心"),
    ("friendly", "友好"), ("honest", "诚实"), ("patient", "有耐心"), ("polite", "有礼貌"),
    ("lively", "活泼"), ("generous", "大方"), ("silly", "淘气"), ("sleepy", "爱睡觉"),
    ("bold", "大胆"), ("thoughtful", "体贴"), ("creative", "有创意"), ("adventurous", "爱冒险"),
    ("tidy", "爱干净"), ("hardworking", "勤劳"), ("chatty", "爱说话"), ("cheeky", "调皮"),
    ("cheerful", "开朗"), ("daring", "敢作敢为"), ("modest", "谦虚"), ("loyal", "忠诚"),
    ("wise", "有智慧"), ("energetic", "精力充沛"), ("dreamy", "爱幻想"), ("stubborn", "倔强"),
])

#: How someone moves.
ADVERBS = _pairs([
    ("slowly", "慢慢地"), ("quickly", "快快地"), ("quietly", "悄悄地"), ("carefully", "小心地"),
    ("gently", "轻轻地"), ("happily", "开心地"), ("eagerly", "急切地"), ("proudly", "骄傲地"),
    ("calmly", "平静地"), ("cheerfully", "高高兴兴地"), ("bravely", "勇敢地"),
    ("softly", "轻声地"), ("excitedly", "兴奋地"), ("patiently", "耐心地"),
    ("steadily", "稳稳地"), ("boldly", "大胆地"), ("briskly", "轻快地"),
    ("merrily", "快活地"), ("sleepily", "睡眼惺忪地"), ("thoughtfully", "若有所思地"),
    ("hurriedly", "匆匆忙忙地"), ("silently", "静静地"),
])

#: Things to do for fun.
ACTIVITIES: list[Verb] = [
    Verb(*row)
    for row in [
        ("play hide and seek", "played hide and seek", "playing hide and seek", "玩捉迷藏"),
        ("build sand castles", "built sand castles", "building sand castles", "堆沙堡"),
        ("fly kites", "flew kites", "flying kites", "放风筝"),
        ("pick flowers", "picked flowers", "picking flowers", "摘花"),
        ("paint pictures", "painted pictures", "painting pictures", "画画"),
        ("sing songs", "sang songs", "singing songs", "唱歌"),
        ("read stories", "read stories", "reading stories", "读故事"),
        ("climb trees", "climbed trees", "climbing trees", "爬树"),
        ("jump in puddles", "jumped in puddles", "jumping in puddles", "踩水坑"),
        ("bake cookies", "baked cookies", "baking cookies", "烤饼干"),
        ("watch the clouds", "watched the clouds", "watching the clouds", "看云"),
        ("count the stars", "counted the stars", "counting the stars", "数星星"),
        ("collect shells", "collected shells", "collecting shells", "捡贝壳"),
        ("splash in the river", "splashed in the river", "splashing in the river", "在河里玩水"),
        ("ride bikes", "rode bikes", "riding bikes", "骑自行车"),
        ("skip stones", "skipped stones", "skipping stones", "打水漂"),
        ("make daisy chains", "made daisy chains", "making daisy chains", "编雏菊花环"),
        ("look for bugs", "looked for bugs", "looking for bugs", "找小虫子"),
        ("play tag", "played tag", "playing tag", "玩抓人游戏"),
        ("roll down the hill", "rolled down the hill", "rolling down the hill", "从山坡上滚下来"),
        ("swing on the swings", "swung on the swings", "swinging on the swings", "荡秋千"),
        ("draw with chalk", "drew with chalk", "drawing with chalk", "用粉笔画画"),
        ("blow bubbles", "blew bubbles", "blowing bubbles", "吹泡泡"),
        ("feed the ducks", "fed the ducks", "feeding the ducks", "喂鸭子"),
        ("build snowmen", "built snowmen", "building snowmen", "堆雪人"),
        ("tell jokes", "told jokes", "telling jokes", "讲笑话"),
        ("do puzzles", "did puzzles", "doing puzzles", "玩拼图"),
        ("fold paper boats", "folded paper boats", "folding paper boats", "折纸船"),
        ("listen to the birds", "listened to the birds", "listening to the birds", "听鸟叫"),
        ("chase butterflies", "chased butterflies", "chasing butterflies", "追蝴蝶"),
        ("make mud pies", "made mud pies", "making mud pies", "做泥巴饼"),
        ("explore the woods", "explored the woods", "exploring the woods", "探索树林"),
        ("gather acorns", "gathered acorns", "gathering acorns", "捡橡果"),
        ("play music", "played music", "playing music", "演奏音乐"),
        ("learn new words", "learned new words", "learning new words", "学新词语"),
        ("water the plants", "watered the plants", "watering the plants", "给植物浇水"),
        ("watch the sunset", "watched the sunset", "watching the sunset", "看日落"),
        ("look at the moon", "looked at the moon", "looking at the moon", "看月亮"),
        ("knit scarves", "knitted scarves", "knitting scarves", "织围巾"),
        ("dig for treasure", "dug for treasure", "digging for treasure", "挖宝藏"),
        ("race paper planes", "raced paper planes", "racing paper planes", "比赛扔纸飞机"),
        ("swim in the lake", "swam in the lake", "swimming in the lake", "在湖里游泳"),
        ("write little poems", "wrote little poems", "writing little poems", "写小诗"),
        ("play the piano", "played the piano", "playing the piano", "弹钢琴"),
        ("stack wooden blocks", "stacked wooden blocks", "stacking wooden blocks", "搭积木"),
        ("sort pretty buttons", "sorted pretty buttons", "sorting pretty buttons", "整理漂亮的纽扣"),
        ("hop on one foot", "hopped on one foot", "hopping on one foot", "单脚跳"),
        ("sketch the mountains", "sketched the mountains", "sketching the mountains", "画大山"),
        ("juggle three oranges", "juggled three oranges", "juggling three oranges", "抛三个橙子"),
        ("whistle a tune", "whistled a tune", "whistling a tune", "吹口哨"),
        ("plant tulips", "planted tulips", "planting tulips", "种郁金香"),
        ("sail toy ships", "sailed toy ships", "sailing toy ships", "玩玩具船"),
        ("catch snowflakes", "caught snowflakes", "catching snowflakes", "接雪花"),
        ("throw pebbles into the pond", "threw pebbles into the pond", "throwing pebbles into the pond", "往池塘里扔石子"),
        ("crack walnuts", "cracked walnuts", "cracking walnuts", "敲核桃"),
        ("spin in circles", "spun in circles", "spinning in circles", "转圈圈"),
        ("slide down the slide", "slid down the slide", "sliding down the slide", "滑滑梯"),
        ("teach tricks to the puppy", "taught tricks to the puppy", "teaching tricks to the puppy", "教小狗玩把戏"),
        ("braid ribbons", "braided ribbons", "braiding ribbons", "编彩带"),
        ("carve little boats", "carved little boats", "carving little boats", "刻小木船"),
        ("weave baskets", "wove baskets", "weaving baskets", "编篮子"),
        ("string beads", "strung beads", "stringing beads", "穿珠子"),
        ("toss a frisbee", "tossed a frisbee", "tossing a frisbee", "扔飞盘"),
        ("bounce on the bed", "bounced on the bed", "bouncing on the bed", "在床上蹦蹦跳跳"),
        ("shake the apple tree", "shook the apple tree", "shaking the apple tree", "摇苹果树"),
        ("hunt for fossils", "hunted for fossils", "hunting for fossils", "找化石"),
        ("press flowers in a book", "pressed flowers in a book", "pressing flowers in a book", "把花夹在书里"),
        ("study the map", "studied the map", "studying the map", "研究地图"),
        ("decorate cupcakes", "decorated cupcakes", "decorating cupcakes", "装饰纸杯蛋糕"),
        ("tidy the toy shelf", "tidied the toy shelf", "tidying the toy shelf", "整理玩具架"),
        ("float leaves down the stream", "floated leaves down the stream", "floating leaves down the stream", "让树叶顺着小溪漂走"),
        ("trace shadows", "traced shadows", "tracing shadows", "描影子"),
        ("wander through the meadow", "wandered through the meadow", "wandering through the meadow", "在草地上闲逛"),
        ("practise cartwheels", "practised cartwheels", "practising cartwheels", "练习侧手翻"),
        ("mix magic potions", "mixed magic potions", "mixing magic potions", "调魔法药水"),
        ("ring the garden bells", "rang the garden bells", "ringing the garden bells", "摇花园里的铃铛"),
        ("chat with the neighbours", "chatted with the neighbours", "chatting with the neighbours", "和邻居聊天"),
        ("search for four-leaf clovers", "searched for four-leaf clovers", "searching for four-leaf clovers", "找四叶草"),
        ("measure the puddles", "measured the puddles", "measuring the puddles", "量水坑"),
        ("polish old coins", "polished old coins", "polishing old coins", "擦旧硬币"),
        ("squeeze fresh lemonade", "squeezed fresh lemonade", "squeezing fresh lemonade", "榨新鲜柠檬水"),
        ("shovel snow", "shoveled snow", "shoveling snow", "铲雪"),
        ("admire the fireworks", "admired the fireworks", "admiring the fireworks", "看烟花"),
        ("invent silly games", "invented silly games", "inventing silly games", "发明好玩的游戏"),
        ("repair broken toys", "repaired broken toys", "repairing broken toys", "修坏掉的玩具"),
        ("quack like a duck", "quacked like a duck", "quacking like a duck", "学鸭子叫"),
        ("crawl through tunnels", "crawled through tunnels", "crawling through tunnels", "钻隧道"),
        ("scatter seeds for the sparrows", "scattered seeds for the sparrows", "scattering seeds for the sparrows", "给麻雀撒种子"),
        ("gaze at the waves", "gazed at the waves", "gazing at the waves", "看海浪"),
        ("recite nursery rhymes", "recited nursery rhymes", "reciting nursery rhymes", "背儿歌"),
        ("wrap little presents", "wrapped little presents", "wrapping little presents", "包小礼物"),
        ("sweep up the petals", "swept up the petals", "sweeping up the petals", "扫花瓣"),
        ("climb the lookout tower", "climbed the lookout tower", "climbing the lookout tower", "爬瞭望塔"),
        ("borrow library books", "borrowed library books", "borrowing library books", "借图书馆的书"),
        ("paddle a canoe", "paddled a canoe", "paddling a canoe", "划独木舟"),
        ("observe the ants", "observed the ants", "observing the ants", "观察蚂蚁"),
        ("hum lullabies", "hummed lullabies", "humming lullabies", "哼摇篮曲"),
        ("examine rocks with a magnifier", "examined rocks with a magnifier", "examining rocks with a magnifier", "用放大镜看石头"),
        ("glue shiny stickers", "glued shiny stickers", "gluing shiny stickers", "贴闪亮的贴纸"),
        ("tumble in the leaves", "tumbled in the leaves", "tumbling in the leaves", "在树叶堆里打滚"),
        ("skate on the frozen pond", "skated on the frozen pond", "skating on the frozen pond", "在结冰的池塘上滑冰"),
        ("wade in the shallow creek", "waded in the shallow creek", "wading in the shallow creek", "在浅浅的小溪里蹚水"),
        ("stroll along the harbour", "strolled along the harbour", "strolling along the harbour", "沿着港口散步"),
        ("sprinkle sugar on berries", "sprinkled sugar on berries", "sprinkling sugar on berries", "往浆果上撒糖"),
        ("rescue stranded beetles", "rescued stranded beetles", "rescuing stranded beetles", "救困住的甲虫"),
        ("nap in the hammock", "napped in the hammock", "napping in the hammock", "在吊床上打盹"),
        ("greet the mail carrier", "greeted the mail carrier", "greeting the mail carrier", "和邮递员打招呼"),
        ("shuffle playing cards", "shuffled playing cards", "shuffling playing cards", "洗扑克牌"),
        ("design paper crowns", "designed paper crowns", "designing paper crowns", "设计纸皇冠"),
        ("hike up the valley", "hiked up the valley", "hiking up the valley", "沿着山谷徒步"),
    ]
]

#: Jobs a friend needs help with.
CHORES: list[Verb] = [
    Verb(*row)
    for row in [
        ("carry heavy logs", "carried heavy logs", "carrying heavy logs", "搬沉重的木头"),
        ("pick ripe apples", "picked ripe apples", "picking ripe apples", "摘熟透的苹果"),
        ("fix the broken fence", "fixed the broken fence", "fixing the broken fence", "修坏掉的篱笆"),
        ("sweep the long path", "swept the long path", "sweeping the long path", "扫长长的小路"),
        ("water the thirsty garden", "watered the thirsty garden", "watering the thirsty garden", "给干渴的花园浇水"),
        ("stack the firewood", "stacked the firewood", "stacking the firewood", "堆柴火"),
        ("pull the weeds", "pulled the weeds", "pulling the weeds", "拔杂草"),
        ("paint the old door", "painted the old door", "painting the old door", "粉刷旧门"),
        ("fetch water from the well", "fetched water from the well", "fetching water from the well", "从井里打水"),
        ("gather the eggs", "gathered the eggs", "gathering the eggs", "捡鸡蛋"),
        ("mend the fishing net", "mended the fishing net", "mending the fishing net", "补渔网"),
        ("clean the muddy pond", "cleaned the muddy pond", "cleaning the muddy pond", "清理泥泞的池塘"),
        ("dig a deep hole", "dug a deep hole", "digging a deep hole", "挖一个深坑"),
        ("build a new nest", "built a new nest", "building a new nest", "搭一个新窝"),
        ("push a heavy cart", "pushed a heavy cart", "pushing a heavy cart", "推一辆沉重的车"),
        ("hang up the washing", "hung up the washing", "hanging up the washing", "晾衣服"),
        ("fold the clean blankets", "folded the clean blankets", "folding the clean blankets", "叠干净的毯子"),
        ("wash the dirty dishes", "washed the dirty dishes", "washing the dirty dishes", "洗脏碗"),
        ("feed the hungry chickens", "fed the hungry chickens", "feeding the hungry chickens", "喂饿坏了的小鸡"),
        ("rake the fallen leaves", "raked the fallen leaves", "raking the fallen leaves", "耙落叶"),
        ("patch the leaky roof", "patched the leaky roof", "patching the leaky roof", "补漏雨的屋顶"),
        ("move a big stone", "moved a big stone", "moving a big stone", "搬一块大石头"),
        ("unload the wheelbarrow", "unloaded the wheelbarrow", "unloading the wheelbarrow", "卸独轮车上的东西"),
        ("scrub the dusty windows", "scrubbed the dusty windows", "scrubbing the dusty windows", "擦满是灰尘的窗户"),
        ("milk the patient cow", "milked the patient cow", "milking the patient cow", "给耐心的奶牛挤奶"),
        ("chop the vegetables", "chopped the vegetables", "chopping the vegetables", "切蔬菜"),
        ("knead the dough", "kneaded the dough", "kneading the dough", "揉面团"),
        ("count the sheep", "counted the sheep", "counting the sheep", "数羊"),
        ("sort the letters", "sorted the letters", "sorting the letters", "分信件"),
        ("polish the brass lamps", "polished the brass lamps", "polishing the brass lamps", "擦铜灯"),
        ("lift a fallen branch", "lifted a fallen branch", "lifting a fallen branch", "抬起一根断树枝"),
        ("harvest the pumpkins", "harvested the pumpkins", "harvesting the pumpkins", "收南瓜"),
        ("guide the lost ducklings", "guided the lost ducklings", "guiding the lost ducklings", "给迷路的小鸭子带路"),
        ("tie up the little boat", "tied up the little boat", "tying up the little boat", "把小船系好"),
    ]
]

#: What a character can be afraid of.
FEARS = _pairs([
    ("the dark", "黑暗"), ("deep water", "深水"), ("loud thunder", "响亮的雷声"),
    ("the tall slide", "高高的滑梯"), ("big dogs", "大狗"), ("the rickety bridge", "摇摇晃晃的桥"),
    ("climbing high", "爬高"), ("spiders", "蜘蛛"), ("the wind at night", "夜里的风声"),
    ("swimming", "游泳"), ("bees", "蜜蜂"), ("strange noises", "奇怪的声音"),
    ("the big waves", "大浪"), ("the deep cave", "深深的山洞"), ("shadows", "影子"),
    ("the crowded market", "拥挤的集市"), ("thunderstorms", "雷雨"), ("ghost stories", "鬼故事"),
    ("the vacuum cleaner", "吸尘器"), ("tall ladders", "高高的梯子"), ("wasps", "黄蜂"),
])

#: Accidents that call for an apology (English past tense; Chinese with 了).
MISTAKES = _pairs([
    ("knocked over the paint", "打翻了颜料"), ("broke the blue vase", "打碎了蓝花瓶"),
    ("stepped on the flowers", "踩坏了花"), ("spilled the milk", "洒了牛奶"),
    ("tore the picture book", "撕破了图画书"), ("ate all the cookies", "吃光了所有的饼干"),
    ("forgot to close the gate", "忘了关大门"), ("let the chickens out", "把小鸡放了出去"),
    ("muddied the clean floor", "弄脏了干净的地板"), ("broke the wooden chair", "弄坏了木椅子"),
    ("popped the big balloon", "弄破了大气球"), ("tangled the yarn", "弄乱了毛线"),
    ("knocked down the block tower", "推倒了积木塔"), ("scribbled on the wall", "在墙上乱画了"),
    ("squashed the sand castle", "踩塌了沙堡"),
    ("dropped the birthday cake", "把生日蛋糕掉在了地上"), ("cracked the window", "打裂了窗户"),
    ("lost the borrowed crayons", "弄丢了借来的蜡笔"), ("trampled the vegetable patch", "踩坏了菜地"),
    ("splashed mud on the laundry", "把泥溅到了洗好的衣服上"),
    ("bent the bicycle wheel", "弄弯了自行车轮子"),
])

#: Things to exclaim, in quotes: '"What a beautiful morning!" said Mia.'
EXCLAIMS = _pairs([
    ("What a beautiful morning", "多么美丽的早晨啊"), ("Look at all the colours", "看看这些颜色"),
    ("I can hear the river singing", "我听见小河在唱歌"), ("Everything smells wonderful", "什么都好香啊"),
    ("This is a perfect spot for a picnic", "这里最适合野餐了"),
    ("I wonder what is over the hill", "不知道山那边有什么"),
    ("The clouds look like marshmallows", "云朵像棉花糖一样"),
    ("My tummy is rumbling", "我的肚子咕咕叫了"), ("Listen to the crickets", "听，蟋蟀在叫"),
    ("The grass tickles my feet", "小草挠得我的脚痒痒的"),
    ("I feel as light as a feather", "我觉得自己像羽毛一样轻"),
    ("Today feels like an adventure", "今天像是一场冒险"), ("Hooray for sunshine", "太阳出来啦"),
    ("Goodness, how tall the trees are", "天哪，这些树真高"),
    ("I love the smell of fresh bread", "我最爱新鲜面包的香味"),
    ("The puddles are shining like mirrors", "水坑亮得像镜子一样"),
    ("Somebody is baking pies", "有人在烤派"), ("The wind is whispering secrets", "风在说悄悄话"),
    ("Wait for me", "等等我"), ("I am brave enough today", "今天我够勇敢了"),
    ("What a splendid surprise", "真是个大惊喜"), ("Let us explore", "我们去探险吧"),
    ("My whiskers are twitching", "我的胡须在抖动"), ("Autumn leaves are crunchy", "秋天的叶子脆脆的"),
    ("Those mountains are enormous", "那些山真大"), ("I spy a hidden treasure", "我发现了一个藏起来的宝贝"),
    ("Quick, follow those footprints", "快，跟着那些脚印走"), ("Snow makes everything quiet", "下雪让一切都变安静了"),
    ("The stars are twinkling already", "星星已经在眨眼睛了"), ("Nothing beats a warm blanket", "没有什么比暖和的毯子更好了"),
    ("Grandpa tells the funniest stories", "爷爷讲的故事最好笑"), ("Butterflies are dancing everywhere", "到处都有蝴蝶在跳舞"),
    ("My boots are soaking wet", "我的靴子湿透了"), ("Let us build something marvellous", "我们来造一个了不起的东西吧"),
    ("Thunder cannot frighten me", "打雷吓不倒我"), ("Bubbles float higher than kites", "泡泡飘得比风筝还高"),
    ("The moon followed us home", "月亮跟着我们回家了"), ("Pancakes taste better with syrup", "煎饼加糖浆更好吃"),
    ("Every pebble here is different", "这里的每颗石子都不一样"),
    ("Mum will be delighted", "妈妈一定会很高兴"), ("Dad promised us cocoa", "爸爸答应给我们喝可可"),
    ("Perhaps fairies live under mushrooms", "也许蘑菇下面住着小仙子"), ("Imagine flying like an eagle", "想象一下像老鹰一样飞"),
    ("Careful, the ice is slippery", "小心，冰很滑"), ("Raindrops are drumming on the roof", "雨点在屋顶上打鼓"),
    ("Yesterday seems so long ago", "昨天好像过去很久了"), ("Tomorrow we should visit the harbour", "明天我们应该去港口看看"), ("Hush, the baby birds are sleeping", "嘘，小鸟宝宝在睡觉"),
])

#: Describing words and little creatures for "Mia spotted a fuzzy caterpillar."
CREATURE_LOOKS = _pairs([
    ("fuzzy", "毛茸茸"), ("spotty", "带斑点"), ("tiny", "小小"), ("plump", "胖乎乎"),
    ("striped", "有条纹"), ("speedy", "飞快"), ("wiggly", "扭来扭去"), ("sleepy", "困倦"),
    ("noisy", "吵闹"), ("sparkly", "亮晶晶"), ("grumpy", "气呼呼"), ("cheeky", "调皮"),
    ("wrinkly", "皱巴巴"), ("bouncy", "蹦蹦跳跳"), ("shiny", "闪亮"), ("clumsy", "笨手笨脚"),
    ("fluffy", "蓬松"), ("muddy", "脏兮兮"), ("wobbly", "摇摇晃晃"), ("scruffy", "乱蓬蓬"),
    ("dainty", "秀气"), ("chubby", "圆滚滚"), ("nimble", "灵巧"), ("prickly", "扎手"),
])


#: Weather predicates: "The weather was bright and sunny." / "天气晴朗又暖和。"
WEATHER = _pairs([
    ("bright and sunny", "晴朗又暖和"), ("cool and windy", "凉爽又有风"),
    ("grey and cloudy", "阴沉沉的"), ("warm and still", "暖和又安静"),
    ("wet and drizzly", "湿漉漉的"), ("cold and snowy", "寒冷又下着雪"),
    ("foggy", "雾蒙蒙的"), ("hot and dry", "又热又干"), ("fresh and breezy", "清新又有微风"),
    ("crisp and clear", "清爽又晴朗"), ("mild and pleasant", "温和宜人"),
    ("chilly", "有点儿冷"),
])
