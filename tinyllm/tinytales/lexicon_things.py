"""The world of the stories: objects, colours, places, hiding spots, sights, foods and sounds.

Taught in notebook 00 (the corpus). Each entry is bilingual. Chinese nouns carry their measure
word (一只风筝, 一把雨伞) and places carry their preposition (in the forest / 在森林里), so the
grammar can make them agree and the checker can refuse a sentence where they do not.
"""

from __future__ import annotations

from typing import NamedTuple


class Thing(NamedTuple):
    en: str
    zh: str
    mw: str  # Chinese measure word


class Place(NamedTuple):
    en: str  # with its article: "the old forest"
    prep: str  # English preposition: in / on / at / by / near
    zh: str
    zh_suffix: str  # locative after the noun: 在森林里, 在沙滩上, 在河边


class Pair(NamedTuple):
    en: str
    zh: str


#: The hero's treasured object (and birthday gifts).
OBJECTS: list[Thing] = [
    Thing(*row)
    for row in [
        ("kite", "风筝", "只"), ("ball", "球", "个"), ("book", "书", "本"),
        ("umbrella", "雨伞", "把"), ("hat", "帽子", "顶"), ("scarf", "围巾", "条"),
        ("teddy bear", "玩具熊", "只"), ("drum", "鼓", "面"), ("toy boat", "玩具船", "艘"),
        ("whistle", "哨子", "个"), ("music box", "音乐盒", "个"), ("wagon", "小推车", "辆"),
        ("bicycle", "自行车", "辆"), ("scooter", "滑板车", "辆"), ("shell", "贝壳", "枚"),
        ("marble", "弹珠", "颗"), ("pencil", "铅笔", "支"), ("paintbrush", "画笔", "支"),
        ("flute", "笛子", "支"), ("lantern", "灯笼", "盏"), ("flashlight", "手电筒", "个"),
        ("balloon", "气球", "个"), ("backpack", "书包", "个"), ("basket", "篮子", "个"),
        ("blanket", "毯子", "条"), ("pillow", "枕头", "个"), ("rope", "绳子", "根"),
        ("shovel", "小铲子", "把"), ("bucket", "小桶", "个"), ("key", "钥匙", "把"),
        ("map", "地图", "张"), ("robot", "机器人", "个"), ("doll", "娃娃", "个"),
        ("puppet", "木偶", "个"), ("spinning top", "陀螺", "个"), ("jump rope", "跳绳", "根"),
        ("sled", "雪橇", "架"), ("compass", "指南针", "个"), ("bell", "铃铛", "个"),
        ("mirror", "镜子", "面"), ("watch", "手表", "块"), ("ring", "戒指", "枚"),
        ("necklace", "项链", "条"), ("feather", "羽毛", "根"), ("pebble", "鹅卵石", "颗"),
        ("notebook", "笔记本", "本"), ("storybook", "故事书", "本"), ("guitar", "吉他", "把"),
        ("violin", "小提琴", "把"), ("trumpet", "小号", "支"), ("telescope", "望远镜", "架"),
        ("camera", "照相机", "台"), ("radio", "收音机", "台"), ("raincoat", "雨衣", "件"),
        ("sweater", "毛衣", "件"), ("cap", "鸭舌帽", "顶"), ("crown", "皇冠", "顶"),
        ("flag", "小旗子", "面"), ("fishing rod", "鱼竿", "根"), ("jar", "罐子", "个"),
        ("tent", "帐篷", "顶"), ("magic wand", "魔法棒", "根"), ("button", "纽扣", "颗"),
        ("harmonica", "口琴", "支"), ("cup", "杯子", "只"),
    ]
]

#: Colours an object can have (fixed for the whole story).
COLOURS: list[Pair] = [
    Pair(*row)
    for row in [
        ("red", "红色"), ("blue", "蓝色"), ("green", "绿色"), ("yellow", "黄色"),
        ("orange", "橙色"), ("purple", "紫色"), ("pink", "粉色"), ("white", "白色"),
        ("black", "黑色"), ("brown", "棕色"), ("grey", "灰色"), ("golden", "金色"),
        ("silver", "银色"),
    ]
]

#: Where the hero lives (and, as a second role, where a journey leads).
PLACES: list[Place] = [
    Place(*row)
    for row in [
        ("the old forest", "in", "老森林", "里"), ("the green meadow", "in", "绿草地", "上"),
        ("the sandy beach", "on", "沙滩", "上"), ("the busy farm", "on", "热闹的农场", "里"),
        ("the little village", "in", "小村庄", "里"), ("the flower garden", "in", "花园", "里"),
        ("the city park", "in", "城市公园", "里"), ("the quiet valley", "in", "安静的山谷", "里"),
        ("the snowy mountain", "on", "雪山", "上"), ("the sunny hill", "on", "向阳的小山", "上"),
        ("the river bank", "on", "河", "边"), ("the lily pond", "by", "荷花池", "边"),
        ("the blue lake", "by", "蓝色的湖", "边"), ("the big city", "in", "大城市", "里"),
        ("the school", "at", "学校", "里"), ("the library", "at", "图书馆", "里"),
        ("the zoo", "at", "动物园", "里"), ("the apple orchard", "in", "苹果园", "里"),
        ("the bamboo forest", "in", "竹林", "里"), ("the jungle", "in", "丛林", "里"),
        ("the desert", "in", "沙漠", "里"), ("the small island", "on", "小岛", "上"),
        ("the seaside town", "in", "海边小镇", "上"), ("the stone castle", "in", "石头城堡", "里"),
        ("the tree house", "in", "树屋", "里"), ("the toy shop", "in", "玩具店", "里"),
        ("the bakery", "in", "面包店", "里"), ("the market", "at", "集市", "上"),
        ("the harbour", "at", "港口", "边"), ("the lighthouse", "near", "灯塔", "旁"),
        ("the little cottage", "in", "小木屋", "里"), ("the windmill", "near", "风车", "旁"),
        ("the wheat field", "in", "麦田", "里"), ("the rose garden", "in", "玫瑰园", "里"),
        ("the playground", "at", "游乐场", "里"), ("the mountain village", "in", "山村", "里"),
        ("the pine woods", "in", "松树林", "里"), ("the reed marsh", "in", "芦苇荡", "里"),
        ("the old barn", "in", "旧谷仓", "里"), ("the sunflower field", "in", "向日葵田", "里"),
    ]
]

#: Where a lost object turns up (a prepositional phrase; "在..." in Chinese).
SPOTS: list[Pair] = [
    Pair(*row)
    for row in [
        ("under the bed", "在床底下"), ("behind the sofa", "在沙发后面"),
        ("under a pile of leaves", "在一堆树叶下面"), ("in the tall grass", "在高高的草丛里"),
        ("next to the pond", "在池塘旁边"), ("under the old bridge", "在旧桥下面"),
        ("inside a hollow log", "在一根空心木头里"), ("behind a big rock", "在一块大石头后面"),
        ("on top of the shed", "在小棚子顶上"), ("in the toy box", "在玩具箱里"),
        ("under the kitchen table", "在厨房的桌子下面"), ("near the apple tree", "在苹果树旁边"),
        ("in a bird's nest", "在一个鸟窝里"), ("beside the garden gate", "在花园门边"),
        ("in the sandbox", "在沙坑里"), ("under the stairs", "在楼梯下面"),
        ("behind the curtains", "在窗帘后面"), ("in a muddy puddle", "在一个泥水坑里"),
        ("on a high branch", "在一根高高的树枝上"), ("in the laundry basket", "在洗衣篮里"),
        ("under a thorny bush", "在一丛带刺的灌木下面"), ("next to the mailbox", "在信箱旁边"),
        ("inside an old boot", "在一只旧靴子里"), ("by the front door", "在前门旁边"),
        ("in the flower pot", "在花盆里"), ("under the wooden steps", "在木台阶下面"),
    ]
]

#: Finish lines for a race.
LANDMARKS: list[Pair] = [
    Pair(*row)
    for row in [
        ("the old oak tree", "老橡树"), ("the big rock", "大石头"), ("the red bridge", "红桥"),
        ("the top of the hill", "山顶"), ("the water well", "水井"), ("the garden gate", "花园门口"),
        ("the tall pine tree", "高高的松树"), ("the wooden fence", "木篱笆"),
        ("the haystack", "干草堆"), ("the stone tower", "石塔"), ("the blue tent", "蓝帐篷"),
        ("the duck pond", "鸭子池塘"), ("the mailbox", "信箱"), ("the bus stop", "公交车站"),
        ("the maple tree", "枫树"),
    ]
]

#: Seeds to plant and what grows from them.
PLANTS: list[Pair] = [
    Pair(*row)
    for row in [
        ("sunflower", "向日葵"), ("tulip", "郁金香"), ("rose", "玫瑰"), ("daisy", "雏菊"),
        ("pumpkin", "南瓜"), ("tomato", "西红柿"), ("strawberry", "草莓"), ("melon", "甜瓜"),
        ("lily", "百合"), ("bean", "豆子"), ("carrot", "胡萝卜"), ("lavender", "薰衣草"),
        ("cherry tree", "樱桃树"), ("peach tree", "桃树"),
    ]
]

#: Things a character can see on the way (with article / measure word included).
SIGHTS: list[Pair] = [
    Pair(*row)
    for row in [
        ("a tiny snail", "一只小蜗牛"), ("a yellow butterfly", "一只黄蝴蝶"),
        ("a rainbow", "一道彩虹"), ("a shooting star", "一颗流星"),
        ("a busy ant", "一只忙碌的蚂蚁"), ("a tall sunflower", "一朵高高的向日葵"),
        ("a fluffy cloud", "一朵蓬松的白云"), ("a spotted ladybird", "一只带斑点的瓢虫"),
        ("a bird's nest", "一个鸟窝"), ("a bright moon", "一轮明月"),
        ("a green frog", "一只绿青蛙"), ("a spider web", "一张蜘蛛网"),
        ("a little waterfall", "一道小瀑布"), ("a hot air balloon", "一个热气球"),
        ("a sleeping cat", "一只睡觉的猫"), ("a buzzing bee", "一只嗡嗡叫的蜜蜂"),
        ("a silver fish", "一条银色的小鱼"), ("a pile of leaves", "一堆树叶"),
        ("a ring of mushrooms", "一圈蘑菇"), ("a twinkling star", "一颗闪闪发光的星星"),
        ("an old boat", "一条旧船"), ("an orange leaf", "一片橙色的叶子"),
        ("an apple tree", "一棵苹果树"), ("an empty shell", "一个空贝壳"),
        ("a huge pumpkin", "一个大南瓜"), ("a dragonfly", "一只蜻蜓"),
        ("a firefly", "一只萤火虫"), ("a woodpecker", "一只啄木鸟"),
        ("a sleepy owl", "一只困倦的猫头鹰"), ("a baby bird", "一只雏鸟"),
        ("a field of poppies", "一片虞美人花田"), ("a deep puddle", "一个深深的水坑"),
        ("a wooden bridge", "一座木桥"), ("a crumbling stone wall", "一堵快要倒的石墙"),
        ("a red barn", "一座红色的谷仓"), ("a tiny mouse hole", "一个小小的老鼠洞"),
        ("a flock of geese", "一群大雁"), ("a herd of cows", "一群奶牛"),
        ("a school of minnows", "一群小鲦鱼"), ("a pair of swans", "一对天鹅"),
        ("a blue jay", "一只蓝松鸦"), ("a paper boat", "一只纸船"),
        ("a lost mitten", "一只丢失的手套"), ("a giant snowman", "一个巨大的雪人"),
        ("a sand castle", "一座沙堡"), ("a winding path", "一条弯弯曲曲的小路"),
        ("a hidden door", "一扇隐藏的门"), ("a glowing stone", "一块发光的石头"),
        ("a muddy pig", "一头满身是泥的猪"), ("a dancing leaf", "一片跳舞的叶子"),
        ("a singing robin", "一只唱歌的知更鸟"), ("a cloud shaped like a fish", "一朵像鱼的云"),
        ("a grumpy crab", "一只脾气暴躁的螃蟹"), ("a lazy caterpillar", "一条懒洋洋的毛毛虫"),
        ("a purple flower", "一朵紫色的花"), ("a rusty gate", "一扇生锈的大门"),
        ("a giant footprint", "一个巨大的脚印"), ("a slow tortoise", "一只慢吞吞的陆龟"),
        ("a family of ducks", "一家子鸭子"), ("a bubbling spring", "一眼冒泡的泉水"),
        ("a crooked signpost", "一块歪歪的路牌"), ("a patch of clover", "一片三叶草"),
        ("a curious raven", "一只好奇的乌鸦"), ("a heap of snow", "一堆雪"),
        ("a bright lighthouse", "一座明亮的灯塔"), ("a tiny mushroom house", "一座小小的蘑菇屋"),
        ("a swinging hammock", "一张摇晃的吊床"), ("a marching line of ants", "一队行进的蚂蚁"),
        ("a chattering squirrel", "一只叽叽喳喳的松鼠"), ("a golden wheat field", "一片金色的麦田"),
        ("a sparkling stream", "一条波光闪闪的小溪"), ("a broken umbrella", "一把坏掉的雨伞"),
        ("a shy hedgehog", "一只害羞的刺猬"), ("a painted fence", "一道涂了颜色的篱笆"),
        ("a noisy parrot", "一只吵闹的鹦鹉"), ("a flying fish", "一条飞鱼"),
        ("a gentle giraffe", "一头温和的长颈鹿"), ("a sleepy bat", "一只困倦的蝙蝠"),
        ("a clever crow", "一只聪明的乌鸦"), ("a wobbly tooth", "一颗松动的牙齿"),
        ("a kettle of boiling soup", "一壶滚烫的汤"), ("a scarecrow wearing a straw hat", "一个戴草帽的稻草人"),
        ("a ladder leaning on a tree", "一架靠在树上的梯子"), ("a basket of ripe plums", "一篮熟透的李子"),
        ("a puddle full of tadpoles", "一个满是蝌蚪的水坑"), ("a swarm of midges", "一群小蠓虫"),
        ("a bench painted yellow", "一张涂成黄色的长椅"), ("a peacock spreading its feathers", "一只开屏的孔雀"),
        ("a goat chewing a sock", "一只嚼袜子的山羊"), ("a boat with a torn sail", "一条帆破了的船"),
        ("a nest of sleepy kittens", "一窝困倦的小猫"), ("a wheelbarrow full of hay", "一辆装满干草的独轮车"),
        ("a frozen waterfall", "一道结了冰的瀑布"), ("a meadow of bluebells", "一片风铃草地"),
        ("an owl wearing spectacles", "一只戴眼镜的猫头鹰"), ("an enormous sunflower", "一朵巨大的向日葵"),
        ("a lizard basking on a stone", "一只在石头上晒太阳的蜥蜴"), ("a crab carrying seaweed", "一只背着海草的螃蟹"),
        ("a balloon stuck in a tree", "一个卡在树上的气球"), ("a cottage with a crooked chimney", "一座烟囱歪歪的小屋"),
        ("a windmill turning slowly", "一架慢慢转动的风车"), ("a hedgehog curled into a ball", "一只缩成一团的刺猬"),
        ("a squirrel burying acorns", "一只埋橡果的松鼠"), ("a tortoise munching lettuce", "一只吃生菜的乌龟"),
        ("a rooster crowing loudly", "一只大声打鸣的公鸡"), ("a kingfisher diving for fish", "一只潜水捉鱼的翠鸟"),
        ("a mole poking out its nose", "一只探出鼻子的鼹鼠"), ("a heron standing on one leg", "一只单脚站立的苍鹭"),
        ("a spiderweb covered in dew", "一张挂满露珠的蜘蛛网"), ("a chimney puffing smoke", "一根冒着烟的烟囱"),
        ("a canoe drifting downstream", "一只顺流漂下的独木舟"), ("a tractor ploughing the field", "一辆在田里犁地的拖拉机"),
        ("a toadstool with white dots", "一朵带白点的毒蘑菇"), ("a rabbit hopping between carrots", "一只在胡萝卜间跳来跳去的兔子"),
        ("a gull gliding over the waves", "一只在海浪上滑翔的海鸥"), ("a goose guarding its eggs", "一只守着蛋的大鹅"),
        ("a postman pedalling uphill", "一个骑车上坡的邮递员"), ("a fountain splashing in the square", "广场上一座哗哗喷水的喷泉"),
        ("a carousel with painted horses", "一座有彩绘木马的旋转木马"), ("a violet moth on a lamp", "灯上一只紫罗兰色的飞蛾"),
        ("a beehive humming in the hedge", "树篱里一个嗡嗡响的蜂巢"), ("a trail of glittering sand", "一道闪闪发亮的沙路"),
        ("a hawk circling above", "一只在天上盘旋的老鹰"), ("a row of dripping icicles", "一排滴着水的冰柱"),
        ("a jellyfish glowing in the bay", "海湾里一只发光的水母"), ("a sheepdog herding lambs", "一只赶小羊的牧羊犬"),
    ]
]

#: Little creatures to spot, with the Chinese measure word.
CREATURES: list[Thing] = [
    Thing(*row)
    for row in [
        ("caterpillar", "毛毛虫", "条"), ("beetle", "甲虫", "只"), ("sparrow", "麻雀", "只"),
        ("tadpole", "蝌蚪", "只"), ("kitten", "小猫", "只"), ("puppy", "小狗", "只"),
        ("duckling", "小鸭子", "只"), ("bunny", "小兔子", "只"), ("lizard", "蜥蜴", "只"),
        ("moth", "飞蛾", "只"), ("cricket", "蟋蟀", "只"), ("worm", "虫子", "条"),
        ("crab", "螃蟹", "只"), ("piglet", "小猪", "头"), ("calf", "小牛", "头"),
        ("foal", "小马驹", "匹"), ("goldfish", "金鱼", "条"), ("parrot", "鹦鹉", "只"),
        ("hamster", "仓鼠", "只"), ("chipmunk", "花栗鼠", "只"),
        ("grasshopper", "蚱蜢", "只"), ("snail", "蜗牛", "只"), ("robin", "知更鸟", "只"),
        ("squid", "鱿鱼", "条"), ("lobster", "龙虾", "只"), ("ferret", "雪貂", "只"),
        ("weasel", "黄鼠狼", "只"), ("toad", "蟾蜍", "只"), ("pigeon", "鸽子", "只"),
        ("starfish", "海星", "只"),
    ]
]

#: Food, as plural or mass nouns ("some berries" / "一些浆果").
FOODS: list[Pair] = [
    Pair(*row)
    for row in [
        ("berries", "浆果"), ("apples", "苹果"), ("carrots", "胡萝卜"), ("honey", "蜂蜜"),
        ("cookies", "饼干"), ("warm soup", "热汤"), ("bread", "面包"), ("cheese", "奶酪"),
        ("pancakes", "煎饼"), ("dumplings", "饺子"), ("noodles", "面条"), ("rice cakes", "年糕"),
        ("peaches", "桃子"), ("plums", "李子"), ("grapes", "葡萄"), ("cherries", "樱桃"),
        ("nuts", "坚果"), ("acorns", "橡果"), ("corn", "玉米"), ("peas", "豌豆"),
        ("pumpkin pie", "南瓜派"), ("banana bread", "香蕉面包"), ("strawberries", "草莓"),
        ("watermelon", "西瓜"), ("oranges", "橙子"), ("pears", "梨"), ("muffins", "松饼"),
        ("jam", "果酱"), ("sandwiches", "三明治"), ("sunflower seeds", "葵花籽"),
        ("fish soup", "鱼汤"), ("sweet potatoes", "红薯"), ("mushrooms", "蘑菇"),
        ("porridge", "粥"), ("steamed buns", "包子"), ("tomatoes", "西红柿"),
        ("cabbage", "白菜"), ("blueberries", "蓝莓"), ("mangoes", "芒果"), ("coconut", "椰子"),
        ("chestnuts", "栗子"), ("popcorn", "爆米花"), ("cupcakes", "纸杯蛋糕"),
        ("apple pie", "苹果派"), ("rice", "米饭"), ("boiled eggs", "煮鸡蛋"), ("yogurt", "酸奶"),
        ("lemon tarts", "柠檬挞"), ("hot cocoa", "热可可"), ("walnuts", "核桃"),
        ("raisins", "葡萄干"), ("gingerbread", "姜饼"), ("oatmeal", "燕麦粥"),
        ("clover honey", "三叶草蜂蜜"), ("roasted peanuts", "烤花生"), ("plum pudding", "李子布丁"),
        ("mashed potatoes", "土豆泥"), ("cornbread", "玉米面包"), ("waffles", "华夫饼"),
        ("radishes", "萝卜"), ("broccoli", "西兰花"), ("zucchini", "西葫芦"), ("kiwis", "猕猴桃"),
        ("lychees", "荔枝"), ("papaya", "木瓜"), ("celery", "芹菜"), ("turnips", "芜菁"),
        ("pretzels", "椒盐脆饼"), ("custard", "蛋奶冻"), ("meatballs", "肉丸子"), ("omelettes", "煎蛋卷"),
        ("biscuits", "小饼干"), ("lentil stew", "扁豆炖菜"), ("sesame buns", "芝麻包"), ("persimmons", "柿子"),
        ("pomegranates", "石榴"), ("cranberries", "蔓越莓"), ("gooseberries", "醋栗"), ("dumpling soup", "饺子汤"),
        ("scrambled eggs", "炒鸡蛋"), ("vanilla pudding", "香草布丁"), ("almonds", "杏仁"), ("pistachios", "开心果"), ("apricots", "杏子"), ("hazelnuts", "榛子"), ("crumpets", "松饼卷"), ("cucumbers", "黄瓜"), ("spinach", "菠菜"), ("tofu", "豆腐"),
        ("pineapple", "菠萝"), ("figs", "无花果"), ("dates", "红枣"), ("toast", "吐司"),
    ]
]

#: Sounds that make a character stop and listen.
SOUNDS: list[Pair] = [
    Pair(*row)
    for row in [
        ("a loud bang", "一声巨响"), ("a soft whistle", "一声轻轻的口哨"),
        ("a strange squeak", "一声奇怪的吱吱声"), ("a happy song", "一首快乐的歌"),
        ("a tiny cry", "一声小小的哭声"), ("a deep rumble", "一阵低沉的隆隆声"),
        ("a gentle tapping", "一阵轻轻的敲击声"), ("a big splash", "一声扑通声"),
        ("a sweet tune", "一段好听的曲子"), ("a funny giggle", "一阵咯咯的笑声"),
        ("a sharp crack", "一声清脆的断裂声"), ("a low hoot", "一声低低的咕咕声"),
        ("a rustle in the bushes", "灌木丛里一阵沙沙声"), ("a faraway bell", "远处的钟声"),
        ("a buzzing noise", "一阵嗡嗡声"), ("a loud sneeze", "一个响亮的喷嚏"),
        ("a soft meow", "一声轻轻的喵喵叫"), ("a quiet knock", "一声轻轻的敲门声"),
        ("a cheerful chirp", "一声欢快的啾啾声"), ("a creaky door", "一扇门吱呀作响"),
        ("a thundering gallop", "一阵轰隆隆的马蹄声"), ("a distant trumpet", "远处的小号声"),
        ("a curious croak", "一声好奇的呱呱声"), ("a playful bark", "一声调皮的汪汪叫"),
        ("a gurgling brook", "小溪哗哗的流水声"), ("a jingling sleigh", "雪橇叮叮当当的声音"),
    ]
]
