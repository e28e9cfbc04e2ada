"""The class list of the corpus: what a query describes, with its phrasings.

A class names what a query describes ("rain"), with phrasings for training and different
phrasings kept for validation (see `livesep.training.captions`). `ZEROSHOT` classes are
never trained: they are queried only through the text encoder, to measure how the model
generalises. Which files belong to which class is said by the sources
(`livesep.training.corpus_sources`).
"""

from __future__ import annotations

from dataclasses import dataclass

TRAIN = "train"
ZEROSHOT = "zeroshot"  # never in training: queried only through the text encoder


@dataclass(frozen=True)
class ClassSpec:
    """One class of sound.

    Attributes:
        name: class name, also the folder under DIR/audio (spaces -> underscores).
        phrases: noun phrases used to build training captions.
        val_phrases: different noun phrases, used only for validation captions.
        role: `TRAIN` (train + val clips) or `ZEROSHOT` (held out of training entirely).
    """

    name: str
    phrases: tuple[str, ...]
    val_phrases: tuple[str, ...]
    role: str = TRAIN


def _c(name: str, phrases: str, val: str, role: str = TRAIN) -> ClassSpec:
    return ClassSpec(name, tuple(phrases.split("; ")), tuple(val.split("; ")), role)


CLASSES: dict[str, ClassSpec] = {
    c.name: c
    for c in [
        # weather, water
        _c(
            "rain",
            "rain; rainfall; the sound of rain; rain falling; heavy rain; a downpour; "
            "rain on a roof; drizzle; pouring rain; a rainstorm",
            "a rain shower; raindrops",
        ),
        _c(
            "wind",
            "wind; the wind blowing; a gust of wind; howling wind; strong wind; wind whistling; "
            "a gale; air rushing past; blustery weather; a gusty wind",
            "a windy day; breeze",
        ),
        _c(
            "thunder",
            "thunder; a thunderclap; rolling thunder; thunder rumbling; a crack of thunder; "
            "a storm; distant thunder; a peal of thunder",
            "a thunderstorm; lightning strike",
        ),
        _c(
            "river",
            "a river; a flowing stream; running water; a stream; water flowing; a gurgling stream; "
            "trickling water; rapids; a flowing river",
            "a babbling brook; a creek",
        ),
        _c(
            "waterfall",
            "a waterfall; water cascading; falling water; water falling onto rocks; "
            "a roaring waterfall; rushing water; water plunging down; a falls",
            "a cascade; a torrent",
        ),
        _c(
            "waves",
            "ocean waves; waves crashing; the sea; the ocean; sea waves; waves on the shore; "
            "the tide coming in; the seaside; rolling waves",
            "surf on a beach; breakers",
        ),
        # animals
        _c(
            "birdsong",
            "birds singing; birdsong; birds chirping; a bird; a bird singing; bird calls; "
            "a chorus of birds; birds twittering; a bird chirping",
            "a songbird; tweeting birds",
        ),
        _c(
            "crickets",
            "crickets; crickets chirping; a cricket; crickets singing; cricket chirps; "
            "a chorus of crickets; bugs chirping",
            "chirping insects; cicadas at night",
        ),
        _c(
            "wolf",
            "a wolf; a wolf howling; a wolf growling; wolves howling; a pack of wolves; "
            "a wolf snarling; a lone wolf; a wolf pack howling",
            "a howl; a timber wolf",
        ),
        _c(
            "cow",
            "a cow; a cow mooing; cattle; cows; a moo; cows mooing; a calf; a bull",
            "mooing; an ox lowing",
        ),
        _c(
            "sheep",
            "a sheep; a sheep bleating; sheep baaing; sheep; a flock of sheep; a baa; a ewe",
            "a lamb; bleating",
        ),
        _c(
            "horse",
            "a horse; a horse neighing; a horse whinnying; horses; a horse snorting; a stallion; "
            "a mare; a whinny; horse hooves; hooves clip-clopping; a horse galloping; hoofbeats",
            "a neigh; a pony",
        ),
        _c(
            "pig",
            "a pig; a pig grunting; a pig squealing; pigs; a pig snorting; a squealing pig; "
            "a grunt; a boar",
            "oinking; a hog",
        ),
        _c(
            "chicken",
            "a chicken; chickens clucking; a hen; hens; a rooster; a cluck; chickens; "
            "a chicken squawking",
            "clucking; poultry",
        ),
        _c(
            "elephant",
            "an elephant; an elephant trumpeting; elephants; an elephant call; "
            "an elephant roaring; a herd of elephants",
            "a trumpeting pachyderm",
        ),
        _c(
            "frog",
            "a frog; a frog croaking; frogs; frogs croaking; a bullfrog; a frog ribbiting",
            "croaking; a toad",
            ZEROSHOT,
        ),
        _c(
            "duck",
            "a duck; a duck quacking; a duck call; a quack; a quacking duck; a mallard",
            "quacking; ducks on a pond",
            ZEROSHOT,
        ),
        _c(
            "goat",
            "a goat; a goat bleating; a goat bleating loudly; a kid goat; a bleating goat",
            "a billy goat; goats",
            ZEROSHOT,
        ),
        # people
        _c(
            "male speech",
            "a man speaking; a male voice; a man talking; a man's voice; a guy talking; "
            "male speech; a gentleman speaking; a deep voice talking",
            "a male speaker; a man",
        ),
        _c(
            "female speech",
            "a woman speaking; a female voice; a woman talking; a woman's voice; a girl talking; "
            "female speech; a woman narrating; a soft female voice",
            "a lady; a woman",
        ),
        _c(
            "scream",
            "a scream; a person screaming; a cry of pain; screaming; a shriek; a terrified scream; "
            "a loud cry; a person crying out",
            "a yell; someone shouting",
        ),
        _c(
            "footsteps",
            "footsteps; walking; steps on the ground; steps; shoes on a floor; "
            "footsteps on a floor; a person walking; boots walking",
            "someone walking; running feet",
        ),
        _c(
            "crowd",
            "a crowd cheering; a cheering audience; cheering; a crowd; people cheering; "
            "fans cheering; crowd chatter; a murmuring crowd; people chattering; a crowd murmuring",
            "a stadium crowd; a noisy hubbub",
        ),
        # things, tools, machines
        _c(
            "fire",
            "fire crackling; a fire; burning wood; crackling fire; a burning fire; a fireplace; "
            "a bonfire; wood burning",
            "a campfire; flames",
        ),
        _c(
            "explosion",
            "an explosion; a blast; a bomb going off; explosions; a big explosion; a bomb; "
            "a loud blast; an explosive bang",
            "a detonation; a boom",
        ),
        _c(
            "glass breaking",
            "glass breaking; shattering glass; breaking glass; glass shattering; "
            "a glass dropped on the floor; a bottle breaking; shards of glass",
            "a window smashing; broken glass",
        ),
        _c(
            "door",
            "a door; a door opening; a door closing; a door banging; a door shutting; "
            "a wooden door; a door handle; a closing door",
            "a door slamming; a creaking door",
        ),
        _c(
            "bell",
            "a bell; a bell ringing; a chime; bells; a ringing bell; a church bell; chimes; "
            "a bell tolling",
            "a ding; a small bell",
        ),
        _c(
            "phone ringing",
            "a phone ringing; a telephone ringtone; a ringtone; a telephone; a cell phone ringing; "
            "a phone; a mobile phone ringing",
            "a ringing phone; a call",
        ),
        _c(
            "car engine",
            "a car engine; an engine revving; a motor; an engine; a car; a motor running; "
            "an engine idling; a revving car",
            "a vehicle; an accelerating car",
        ),
        _c(
            "train",
            "a train; a locomotive; a railway train; a train going by; a railway; a freight train; "
            "train wheels on tracks; a train horn",
            "a steam engine; a passing train",
        ),
        _c(
            "traffic",
            "traffic; cars driving by; street traffic; traffic on a street; cars passing; "
            "a highway; vehicles driving past; traffic noise",
            "a busy road; city traffic",
        ),
        _c(
            "sword clash",
            "swords clashing; a sword fight; metal clanging; swords; a sword fight scene; "
            "clanging metal; steel clashing; fencing swords",
            "a duel; blades striking",
        ),
        _c(
            "bow shot",
            "a bow and arrow; an arrow being shot; an arrow; a bow; firing an arrow; a bowstring; "
            "an arrow flying",
            "an archer shooting; arrows",
        ),
        _c(
            "hammering",
            "hammering; a hammer; pounding with a hammer; a hammer striking; hammer blows; "
            "banging with a hammer; hammering metal; pounding nails",
            "a hammer hitting nails",
        ),
        _c(
            "sawing",
            "sawing; a hand saw; sawing wood; a saw; sawing timber; a handsaw; wood being sawn; "
            "a saw going back and forth",
            "a saw cutting; a carpenter sawing",
        ),
        _c(
            "chopping wood",
            "chopping wood; an axe; woodcutting; an axe chopping; splitting logs; chopping; "
            "an axe striking wood; cutting firewood",
            "a lumberjack; an axe on a log",
        ),
        _c(
            "pickaxe",
            "a pickaxe; mining; striking stone; a pickaxe striking; digging with a pickaxe; "
            "breaking stone; mining stone; a pickaxe hitting stone",
            "a pick on rock; quarrying",
        ),
        # music
        _c(
            "drums",
            "drums; a drum kit; drumming; a drum beat; a drum; drum beats; a snare drum; "
            "a drum groove; a kick and snare",
            "percussion; a drummer",
        ),
        _c(
            "piano",
            "a piano; piano music; someone playing the piano; piano; piano chords; a piano melody; "
            "an upright piano; piano notes",
            "a grand piano; keys",
        ),
        _c(
            "harpsichord",
            "a harpsichord; harpsichord music; a harpsichord playing; a harpsichord melody; "
            "a harpsichord piece; harpsichord notes",
            "a baroque keyboard",
        ),
        _c(
            "organ",
            "an organ; a church organ; pipe organ music; organ music; an organ playing; "
            "a pipe organ; organ notes; a hammond organ",
            "an organist; organ chords",
        ),
        _c(
            "accordion",
            "an accordion; accordion music; an accordion playing; accordion notes; "
            "a button accordion; a piano accordion; a polka accordion",
            "a squeezebox",
        ),
        _c(
            "acoustic guitar",
            "an acoustic guitar; guitar strumming; acoustic guitar; a guitar; "
            "acoustic guitar chords; a classical guitar; fingerpicked guitar",
            "a guitarist; plucked strings",
        ),
        _c(
            "electric guitar",
            "an electric guitar; a distorted guitar; electric guitar; a guitar solo; "
            "an overdriven guitar; electric guitar chords; a lead guitar",
            "a rock guitar; guitar riff",
        ),
        _c(
            "bass guitar",
            "a bass guitar; a bass line; bass; a bass; an electric bass; a bass guitar groove; "
            "a slap bass",
            "a bassist; low bass notes",
        ),
        _c(
            "violin",
            "a violin; violin music; a fiddle; violin; a violin melody; a violin solo; "
            "a fiddle tune; violins",
            "a violinist; bowed strings",
        ),
        _c(
            "cello",
            "a cello; cello music; cello; a cello playing; a cello melody; cello notes; "
            "a cello solo",
            "a cellist; a low bowed string",
        ),
        _c(
            "harp",
            "a harp; harp music; harp; a harp playing; harp notes; a harp melody; a concert harp",
            "a harpist; a plucked harp",
        ),
        _c(
            "flute",
            "a flute; flute music; flute; a flute playing; a flute melody; flute notes; "
            "a flute solo",
            "a flautist; a woodwind",
        ),
        _c(
            "clarinet",
            "a clarinet; clarinet music; clarinet; a clarinet playing; a clarinet melody; "
            "clarinet notes; a clarinet solo",
            "a clarinettist; a reed instrument",
        ),
        _c(
            "saxophone",
            "a saxophone; a sax; saxophone music; saxophone; a sax solo; a tenor sax; "
            "an alto saxophone; a saxophone melody",
            "a saxophonist; jazz sax",
        ),
        _c(
            "trumpet",
            "a trumpet; trumpet music; trumpet; a trumpet playing; a trumpet melody; "
            "trumpet notes; a trumpet solo",
            "a trumpeter; a brass fanfare",
        ),
        _c(
            "trombone",
            "a trombone; trombone music; trombone; a trombone playing; a trombone melody; "
            "trombone notes; a trombone slide",
            "a trombonist; a low brass horn",
        ),
        _c(
            "xylophone",
            "a xylophone; a marimba; mallet percussion; xylophone; xylophone notes; "
            "a marimba melody; a vibraphone; struck wooden bars",
            "a glockenspiel; mallets",
        ),
        _c(
            "tabla",
            "a tabla; tabla drums; tabla; tabla rhythm; a tabla solo; tabla beats",
            "indian hand drums; a tabla player",
            ZEROSHOT,
        ),
        _c(
            "banjo",
            "a banjo; banjo music; banjo; a banjo playing; banjo notes; a banjo tune",
            "a banjo player; bluegrass picking",
            ZEROSHOT,
        ),
        # corpus v2 (2026-12-06): classes from the packages reviewed in docs/TRAINING_DATA.md
        _c(
            "dog",
            "a dog; a dog barking; dogs barking; a bark; barking; a barking dog; a dog growling; "
            "a puppy; a woof; a dog yapping",
            "a hound baying; a guard dog",
        ),
        _c(
            "cat",
            "a cat; a cat meowing; cats meowing; a meow; meowing; a meowing cat; cats; a kitten; "
            "a kitten mewing; a cat crying",
            "a kitty; a feline mewling",
        ),
        _c(
            "baby cry",
            "a baby crying; an infant crying; a crying baby; a baby; a newborn crying; "
            "a baby wailing; an infant; a crying infant; a baby's cry",
            "a crying toddler; a fussy baby",
        ),
        _c(
            "laughter",
            "laughter; people laughing; a man laughing; a woman laughing; laughing; a laugh; "
            "a person laughing; giggling; a hearty laugh; chuckling",
            "guffaws; a giggle",
        ),
        _c(
            "cough",
            "a cough; coughing; a person coughing; a man coughing; a woman coughing; "
            "a dry cough; someone coughing; coughs; a hacking cough",
            "a coughing fit; a chesty cough",
        ),
        _c(
            "sneeze",
            "a sneeze; sneezing; a person sneezing; a man sneezing; a woman sneezing; "
            "someone sneezing; sneezes; a loud sneeze; an achoo",
            "atchoo; a sneezing fit",
        ),
        _c(
            "applause",
            "applause; clapping; an audience applauding; people clapping; hands clapping; "
            "a round of applause; an audience clapping; clapping hands; a crowd applauding; "
            "handclaps",
            "an ovation; applauding spectators",
        ),
        _c(
            "singing",
            "singing; a person singing; a singer; a voice singing; a man singing; "
            "a woman singing; vocals; a solo voice; someone singing; a cappella singing",
            "a vocalist; an unaccompanied song",
        ),
        _c(
            "owl",
            "an owl; an owl hooting; owls; a hoot; hooting; an owl at night; a hooting owl; "
            "an owl call",
            "a barn owl; a nocturnal bird hooting",
        ),
        _c(
            "crow",
            "a crow; a crow cawing; crows; crows cawing; a caw; cawing; a raven; a cawing crow",
            "a rook; a murder of crows",
        ),
        _c(
            "seagull",
            "a seagull; seagulls; a gull; gulls crying; seagulls calling; a seagull squawking; "
            "seabirds; gulls at the beach; a seagull cry",
            "a herring gull; squawking gulls at the harbor",
        ),
        _c(
            "goose",
            "a goose; a goose honking; geese; geese honking; a honking goose; a gaggle of geese; "
            "a goose call; a goose squawking",
            "a gander; a canada goose",
        ),
        _c(
            "hawk",
            "a hawk; a hawk screeching; a bird of prey; an eagle; a hawk cry; a screeching hawk; "
            "a falcon; a raptor screech; an eagle screaming",
            "a red-tailed hawk; a buzzard calling",
        ),
        _c(
            "lion",
            "a lion; a lion roaring; a roar; lions; a roaring lion; a big cat roaring; "
            "a lion growling; a lion's roar",
            "a lioness; a predator roaring",
        ),
        _c(
            "camel",
            "a camel; a camel grunting; camels; a camel groaning; a camel bellowing; "
            "a dromedary; a grunting camel; a camel moaning",
            "a bactrian camel; a desert animal grunting",
        ),
        _c(
            "monkey",
            "a monkey; monkeys; monkeys chattering; a monkey screeching; a chimpanzee; "
            "monkeys screaming; an ape; a chattering monkey; primates",
            "a macaque; a troop of chimps",
        ),
        _c(
            "sea lion",
            "a sea lion; sea lions; a sea lion barking; sea lions barking; a seal; "
            "a seal barking; a barking sea lion; seals",
            "a sea lion colony; a fur seal calling",
        ),
        _c(
            "keyboard typing",
            "typing; a keyboard; typing on a keyboard; keyboard typing; a computer keyboard; "
            "someone typing; keystrokes; a person typing; clacking keys",
            "a typist; a mechanical keyboard clacking",
        ),
        _c(
            "knock",
            "a knock; knocking on a door; a knock at the door; someone knocking; knocks; "
            "a door knock; knocking on wood; rapping on a door",
            "a rap at the door; a visitor knocking",
        ),
        _c(
            "clock",
            "a clock; a clock ticking; a clock tick; a grandfather clock; "
            "a tower clock striking; a cuckoo clock; a clock striking; a clock chiming; "
            "tick tock; a wall clock",
            "a pendulum clock; a timepiece ticking",
        ),
        _c(
            "siren",
            "a siren; an ambulance siren; a police siren; a fire truck siren; sirens; "
            "a siren wailing; an emergency siren; a wailing siren; an air raid siren",
            "a squad car siren; an ambulance rushing by",
        ),
        _c(
            "vehicle horn",
            "a car horn; a horn honking; a car honking; a truck horn; honking; a horn; "
            "a beeping car horn; an air horn; a horn blaring; traffic honking",
            "a honk; a lorry honking",
        ),
        _c(
            "boat horn",
            "a boat horn; a ship's horn; a foghorn; a ship horn; a ship's whistle; a ferry horn; "
            "a fog horn; a boat; a ship; a steamship horn",
            "an ocean liner; a tugboat horn",
        ),
        _c(
            "motorcycle",
            "a motorcycle; a motorbike; a motorcycle revving; a motorcycle passing by; "
            "a motorbike engine; a dirt bike; a motorcycle engine; a scooter; a revving motorbike",
            "a biker riding past; a harley",
        ),
        _c(
            "aircraft",
            "an airplane; a plane; an aircraft; a jet; a plane flying over; a jet engine; "
            "a propeller plane; an airplane taking off; a jet plane; an airliner",
            "an aeroplane; a jet overhead",
        ),
        _c(
            "helicopter",
            "a helicopter; a chopper; helicopter rotors; a helicopter flying; "
            "a helicopter hovering; rotor blades; a helicopter flying over; helicopter blades; "
            "a military helicopter",
            "a whirlybird; a helicopter landing",
        ),
        _c(
            "skidding",
            "tires screeching; a car skidding; skidding; screeching tires; squealing tyres; "
            "a skid; tyres screeching; brakes screeching; a car braking hard; a car drifting",
            "burning rubber; a vehicle sliding",
        ),
        _c(
            "car crash",
            "a car crash; a crash; a collision; a car accident; cars colliding; "
            "a vehicle crashing; a car wreck; metal crunching; a crash of metal; a pileup",
            "a traffic accident; a head-on smash",
        ),
        _c(
            "hum",
            "a hum; an electrical hum; a buzzing hum; a fan humming; a humming fan; a mains hum; "
            "a transformer hum; an electric hum; a droning hum; a ventilation fan",
            "a low drone; an air conditioner",
        ),
        _c(
            "tap water",
            "a tap running; a faucet; water from a tap; a running faucet; a sink; a shower; "
            "a shower running; water running from a tap; a faucet running; tap water",
            "a kitchen sink filling; someone showering",
        ),
        _c(
            "toilet flush",
            "a toilet flushing; a toilet flush; a toilet; flushing; a flushing toilet; "
            "flushing a toilet; a toilet cistern; a toilet tank refilling",
            "a lavatory flush; a bathroom flushing",
        ),
        _c(
            "splash",
            "a splash; splashing; something splashing into water; a splash in water; "
            "an object falling into water; a stone thrown in water; splashes; a plop; "
            "a big splash; a belly flop",
            "a dive into a pool; a pebble dropped in a pond",
        ),
        _c(
            "bubbles",
            "bubbles; bubbling water; bubbling; water bubbling; a bubbling liquid; "
            "blowing bubbles in water; bubbles rising; a gurgle; boiling water; air bubbles",
            "an aquarium; blowing through a straw",
        ),
        _c(
            "gunshot",
            "a gunshot; gunfire; a gun firing; a pistol shot; a rifle shot; a shotgun blast; "
            "shots fired; a machine gun; a musket shot; gunshots",
            "a handgun; a bullet being fired",
        ),
        _c(
            "power tool",
            "a power tool; a power drill; a drill; a jackhammer; a circular saw; "
            "an electric drill; a pneumatic drill; a drill whirring; a buzz saw; an electric saw",
            "a cordless drill; a workshop machine",
        ),
        _c(
            "whistle",
            "a whistle; a referee's whistle; a whistle blowing; a whistle blow; "
            "a sports whistle; a police whistle; a loud whistle; a shrill whistle; whistles",
            "a coach's whistle; a pea whistle",
        ),
        _c(
            "camera shutter",
            "a camera shutter; a camera click; a shutter click; taking a photo; a camera; "
            "a photo being taken; a shutter; a camera snapping; a shutter release",
            "a snapshot; a photographer's camera",
        ),
        _c(
            "wind chime",
            "wind chimes; a wind chime; wind chimes tinkling; tinkling chimes; "
            "chimes in the breeze; a wind chime ringing; tinkling; metal chimes",
            "a porch chime; jingling chimes in the wind",
        ),
        _c(
            "coins",
            "coins; coins jingling; coins dropping; loose change; a coin; jingling coins; "
            "coins falling; change in a pocket; a coin dropped; money jingling",
            "pennies; a handful of coins",
        ),
        _c(
            "paper",
            "paper; paper rustling; rustling paper; turning pages; flipping pages; "
            "paper tearing; tearing paper; a page turning; crumpling paper; pages of a book",
            "leafing through a book; ripped paper",
        ),
        _c(
            "fireworks",
            "fireworks; fireworks exploding; a firework; fireworks crackling; firecrackers; "
            "a fireworks display; a rocket exploding; fireworks going off; crackling fireworks",
            "a pyrotechnic show; bottle rockets",
        ),
        _c(
            "sewing machine",
            "a sewing machine; sewing; a sewing machine running; sewing machine stitching; "
            "a sewing machine motor; stitching; a seamstress sewing; a sewing machine whirring",
            "an industrial stitcher; a tailor sewing",
        ),
        _c(
            "finger snap",
            "a finger snap; snapping fingers; finger snapping; a snap of the fingers; "
            "fingers snapping; someone snapping their fingers; a click of the fingers; snaps",
            "a clicking of fingers; a snapping hand",
        ),
        _c(
            "beatbox",
            "beatboxing; a beatbox; a beatboxer; vocal percussion; mouth drumming; "
            "a human beatbox; beatbox rhythm; a beatboxing voice",
            "mouth percussion; a vocal beat",
        ),
        _c(
            "doorbell",
            "a doorbell; a doorbell ringing; the doorbell; a door chime; a ding dong; "
            "someone ringing the doorbell; a doorbell chime; a buzzer at the door",
            "a front door bell; a visitor ringing the bell",
        ),
        _c(
            "truck",
            "a truck; a lorry; a truck engine; a bus; a diesel engine; a heavy truck; "
            "a truck driving; a bus engine; a diesel truck idling; heavy vehicles",
            "an eighteen-wheeler; a semi truck rumbling",
        ),
        _c(
            "peacock",
            "a peacock; a peacock calling; a peacock screaming; peafowl; a peacock cry; "
            "a peahen; a peacock call",
            "a peafowl wailing; an indian peacock",
        ),
        # generated by the builder itself (tests, the `synth` set)
        _c(
            "beeps",
            "beeps; a tone beeping; electronic beeps; a beep; beeping; a beep tone; "
            "a series of beeps; electronic tones",
            "a beeper; a bleep",
        ),
        _c(
            "noise bursts",
            "noise bursts; bursts of static; noise; bursts of noise; white noise bursts; "
            "short noise bursts; crackles of static",
            "hiss bursts; static",
        ),
        _c(
            "clicks",
            "clicks; a clicking sound; ticking; a ticking sound; clicking; a ticking clock; "
            "metronome clicks; a series of clicks",
            "a click track; tapping",
        ),
        _c(
            "chirps",
            "chirps; a rising sweep; a whistle sweep; a chirp; a frequency sweep; rising tones; "
            "a sine sweep",
            "a sweep tone; a glide",
            ZEROSHOT,
        ),
    ]
}
