/**
 * The sound-event vocabulary: ESC-50's 50 classes and common AudioSet classes, each written the way
 * subtitles write sounds ("(dog barking)", "[dog barks]"), three phrasings per class. The sound-event
 * observer scores every phrasing against the audio with Whisper's decoder; the caption checks take
 * their sound nouns and verbs from the same phrasings.
 */

/** Broad families (after AudioSet's top level): stated when the tagger is sure of the family but not of the class. */
export type SoundFamily = 'animal' | 'human' | 'music' | 'water' | 'household' | 'alarm' | 'vehicle' | 'bang';

/** What a caption says for a family: "a sound like {words}". */
export const SOUND_FAMILY_WORDS: Readonly<Record<SoundFamily, string>> = {
  animal: 'an animal call',
  human: 'a sound a person makes (not speech)',
  music: 'a musical instrument or music',
  water: 'water, rain or wind',
  household: 'a household or mechanical sound (a door, a click or a machine)',
  alarm: 'a bell, beep, ring or alarm',
  vehicle: 'an engine or a vehicle',
  bang: 'a bang or an explosion',
};

export interface SoundLabel {
  /** Stable class id (ESC-50 names where the class is one of ESC-50's). */
  id: string;
  /** What a caption says: "a sound like {words}". */
  words: string;
  /** Subtitle-style phrasings, scored with a leading space as Whisper writes a first token. */
  phrasings: readonly string[];
  /** A broader class that is also right when this one is (an instrument is music). */
  parent?: string;
  family: SoundFamily;
  /** Speech: the recognizer's business, never stated as a sound event (it absorbs talking windows). */
  speech?: boolean;
  /**
   * A sustained sound or a series by its meaning (applause is many claps, typing many keystrokes, an
   * engine runs): it cannot be what a window shorter than SUSTAINED_SECONDS holds.
   */
  sustained?: boolean;
}

/** The shortest window of sound a sustained class can be named in (seconds of the window, margins included). */
export const SUSTAINED_SECONDS = 1;

export const SOUND_LABELS: readonly SoundLabel[] = [
  { id: 'dog', words: 'a dog barking', phrasings: ['(dog barking)', '[dog barks]', '(barking)'], family: 'animal' },
  { id: 'rooster', words: 'a rooster crowing', phrasings: ['(rooster crowing)', '[rooster crows]', '(cock-a-doodle-doo)'], family: 'animal' },
  { id: 'pig', words: 'a pig oinking', phrasings: ['(pig oinking)', '[pig grunts]', '(oinking)'], family: 'animal' },
  { id: 'cow', words: 'a cow mooing', phrasings: ['(cow mooing)', '[cow moos]', '(mooing)'], family: 'animal' },
  { id: 'frog', words: 'a frog croaking', phrasings: ['(frog croaking)', '[frogs croak]', '(croaking)'], family: 'animal' },
  { id: 'cat', words: 'a cat meowing', phrasings: ['(cat meowing)', '[cat meows]', '(meowing)'], family: 'animal' },
  { id: 'hen', words: 'a hen clucking', phrasings: ['(chicken clucking)', '[hen clucks]', '(clucking)'], family: 'animal' },
  { id: 'insects', words: 'insects buzzing', phrasings: ['(insects buzzing)', '[bees buzzing]', '(buzzing)'], family: 'animal', sustained: true },
  { id: 'sheep', words: 'a sheep bleating', phrasings: ['(sheep bleating)', '[sheep bleats]', '(baaing)'], family: 'animal' },
  { id: 'crow', words: 'a crow cawing', phrasings: ['(crow cawing)', '[crows caw]', '(cawing)'], family: 'animal' },
  { id: 'rain', words: 'rain', phrasings: ['(rain falling)', '[rain pattering]', '(rain)'], family: 'water', sustained: true },
  { id: 'sea_waves', words: 'sea waves', phrasings: ['(waves crashing)', '[ocean waves]', '(surf)'], family: 'water', sustained: true },
  { id: 'crackling_fire', words: 'a crackling fire', phrasings: ['(fire crackling)', '[crackling fire]', '(crackling)'], family: 'water' },
  { id: 'crickets', words: 'crickets chirping', phrasings: ['(crickets chirping)', '[crickets chirp]', '(chirping)'], family: 'animal', sustained: true },
  { id: 'chirping_birds', words: 'birds chirping', phrasings: ['(birds chirping)', '[birds singing]', '(bird tweeting)'], family: 'animal' },
  { id: 'water_drops', words: 'water dripping', phrasings: ['(water dripping)', '[dripping]', '(drip)'], family: 'water' },
  { id: 'wind', words: 'wind blowing', phrasings: ['(wind blowing)', '[wind howling]', '(wind)'], family: 'water', sustained: true },
  { id: 'pouring_water', words: 'water pouring or running', phrasings: ['(water pouring)', '[water running]', '(faucet running)'], family: 'water', sustained: true },
  { id: 'toilet_flush', words: 'a toilet flushing', phrasings: ['(toilet flushing)', '[toilet flushes]', '(flushing)'], family: 'water', sustained: true },
  { id: 'thunderstorm', words: 'thunder', phrasings: ['(thunder rumbling)', '[thunder]', '(thunderclap)'], family: 'water' },
  { id: 'crying_baby', words: 'a baby crying', phrasings: ['(baby crying)', '[baby cries]', '(crying)'], family: 'human' },
  { id: 'sneezing', words: 'a sneeze', phrasings: ['(sneezing)', '[sneezes]', '(achoo)'], family: 'human' },
  { id: 'clapping', words: 'clapping', phrasings: ['(clapping)', '[claps]', '(hand clap)'], family: 'human' },
  { id: 'breathing', words: 'breathing', phrasings: ['(breathing heavily)', '[breathing]', '(panting)'], family: 'human' },
  { id: 'coughing', words: 'coughing', phrasings: ['(coughing)', '[coughs]', '(cough)'], family: 'human' },
  { id: 'footsteps', words: 'footsteps', phrasings: ['(footsteps)', '[footsteps approaching]', '(walking)'], family: 'human', sustained: true },
  { id: 'laughing', words: 'laughter', phrasings: ['(laughing)', '[laughter]', '(chuckles)'], family: 'human' },
  { id: 'brushing_teeth', words: 'teeth being brushed', phrasings: ['(brushing teeth)', '[toothbrush scrubbing]', '(scrubbing)'], family: 'human', sustained: true },
  { id: 'snoring', words: 'snoring', phrasings: ['(snoring)', '[snores]', '(snore)'], family: 'human' },
  { id: 'drinking_sipping', words: 'sipping or slurping', phrasings: ['(slurping)', '[sipping]', '(gulping)'], family: 'human' },
  { id: 'door_knock', words: 'knocking on a door', phrasings: ['(knocking on door)', '[knocking]', '(knock knock)'], family: 'household' },
  { id: 'mouse_click', words: 'a mouse click', phrasings: ['(mouse clicking)', '[click]', '(clicking)'], family: 'household' },
  { id: 'keyboard_typing', words: 'typing on a keyboard', phrasings: ['(typing on keyboard)', '[keyboard clacking]', '(typing)'], family: 'household', sustained: true },
  { id: 'door_wood_creaks', words: 'a door creaking', phrasings: ['(door creaking)', '[door creaks]', '(creaking)'], family: 'household' },
  { id: 'door_slam', words: 'a door closing', phrasings: ['(door closes)', '[door slams]', '(door shuts)'], family: 'household' },
  { id: 'can_opening', words: 'a can opening', phrasings: ['(can opening)', '[can pops open]', '(fizzing)'], family: 'household' },
  { id: 'washing_machine', words: 'a washing machine', phrasings: ['(washing machine running)', '[washing machine whirring]', '(spin cycle)'], family: 'household', sustained: true },
  { id: 'vacuum_cleaner', words: 'a vacuum cleaner', phrasings: ['(vacuum cleaner running)', '[vacuum whirring]', '(vacuuming)'], family: 'household', sustained: true },
  { id: 'clock_alarm', words: 'an alarm ringing', phrasings: ['(alarm clock ringing)', '[alarm beeping]', '(alarm)'], family: 'alarm' },
  { id: 'clock_tick', words: 'a clock ticking', phrasings: ['(clock ticking)', '[ticking]', '(tick tock)'], family: 'household', sustained: true },
  { id: 'glass_breaking', words: 'glass breaking', phrasings: ['(glass shattering)', '[glass breaks]', '(shattering)'], family: 'household' },
  { id: 'helicopter', words: 'a helicopter', phrasings: ['(helicopter whirring)', '[helicopter flying]', '(helicopter)'], family: 'vehicle', sustained: true },
  { id: 'chainsaw', words: 'a chainsaw', phrasings: ['(chainsaw buzzing)', '[chainsaw revving]', '(chainsaw)'], family: 'vehicle', sustained: true },
  { id: 'siren', words: 'a siren', phrasings: ['(siren wailing)', '[sirens]', '(police siren)'], family: 'alarm' },
  { id: 'car_horn', words: 'a car horn', phrasings: ['(car horn honking)', '[horn honks]', '(honking)'], family: 'alarm' },
  { id: 'engine', words: 'an engine running', phrasings: ['(engine running)', '[engine revving]', '(motor humming)'], family: 'vehicle', sustained: true },
  { id: 'train', words: 'a train', phrasings: ['(train passing)', '[train horn]', '(train rumbling)'], family: 'vehicle', sustained: true },
  { id: 'church_bells', words: 'church bells', phrasings: ['(church bells ringing)', '[bell tolling]', '(bells chiming)'], family: 'alarm' },
  { id: 'airplane', words: 'an airplane', phrasings: ['(airplane flying overhead)', '[jet engine roaring]', '(plane)'], family: 'vehicle', sustained: true },
  { id: 'fireworks', words: 'fireworks', phrasings: ['(fireworks exploding)', '[fireworks popping]', '(fireworks)'], family: 'bang' },
  { id: 'hand_saw', words: 'sawing', phrasings: ['(sawing)', '[saw rasping]', '(hand saw)'], family: 'household', sustained: true },
  { id: 'speech', words: 'speech', phrasings: ['(man speaking)', '[woman speaking]', '(talking)'], speech: true, family: 'human' },
  { id: 'music', words: 'music', phrasings: ['(music)', '[music playing]', '(upbeat music)'], family: 'music' },
  { id: 'singing', words: 'singing', phrasings: ['(singing)', '[vocalizing]', '(humming)'], family: 'human' },
  { id: 'applause', words: 'applause', phrasings: ['(applause)', '[audience applauding]', '(clapping and cheering)'], family: 'human', sustained: true },
  { id: 'cheering', words: 'cheering', phrasings: ['(cheering)', '[crowd cheers]', '(whooping)'], family: 'human' },
  { id: 'crowd', words: 'a crowd of people talking', phrasings: ['(crowd chattering)', '[indistinct chatter]', '(people talking)'], family: 'human', sustained: true },
  { id: 'screaming', words: 'screaming', phrasings: ['(screaming)', '[screams]', '(shrieking)'], family: 'human' },
  { id: 'whistling', words: 'whistling', phrasings: ['(whistling)', '[whistles]', '(whistle blows)'], family: 'human' },
  { id: 'telephone_ringing', words: 'a telephone ringing', phrasings: ['(phone ringing)', '[telephone rings]', '(ringtone)'], family: 'alarm' },
  { id: 'doorbell', words: 'a doorbell', phrasings: ['(doorbell ringing)', '[doorbell rings]', '(ding dong)'], family: 'alarm' },
  { id: 'bell', words: 'a bell ringing', phrasings: ['(bell ringing)', '[bell dings]', '(ding)'], family: 'alarm' },
  { id: 'beep', words: 'beeping', phrasings: ['(beeping)', '[beeps]', '(electronic beep)'], family: 'alarm' },
  { id: 'gunshot', words: 'a gunshot', phrasings: ['(gunshot)', '[gunfire]', '(gun fires)'], family: 'bang' },
  { id: 'explosion', words: 'an explosion', phrasings: ['(explosion)', '[explosion booms]', '(boom)'], family: 'bang' },
  { id: 'horse', words: 'a horse neighing or galloping', phrasings: ['(horse neighing)', '[horse whinnies]', '(hooves clopping)'], family: 'animal' },
  { id: 'duck', words: 'a duck quacking', phrasings: ['(duck quacking)', '[ducks quack]', '(quacking)'], family: 'animal' },
  { id: 'goose', words: 'a goose honking', phrasings: ['(goose honking)', '[geese honking]', '(geese)'], family: 'animal' },
  { id: 'owl', words: 'an owl hooting', phrasings: ['(owl hooting)', '[owl hoots]', '(hooting)'], family: 'animal' },
  { id: 'howl', words: 'howling, like a wolf', phrasings: ['(wolf howling)', '[howling]', '(dog howling)'], family: 'animal' },
  { id: 'bubbling', words: 'bubbling', phrasings: ['(bubbling)', '[water bubbling]', '(gurgling)'], family: 'water' },
  { id: 'splash', words: 'a splash', phrasings: ['(splashing)', '[splash]', '(water splashing)'], family: 'water' },
  { id: 'car', words: 'a car passing', phrasings: ['(car passing by)', '[car drives by]', '(car engine)'], family: 'vehicle', sustained: true },
  { id: 'motorcycle', words: 'a motorcycle', phrasings: ['(motorcycle revving)', '[motorcycle passes]', '(motorbike)'], family: 'vehicle', sustained: true },
  { id: 'sewing_machine', words: 'a sewing machine', phrasings: ['(sewing machine whirring)', '[sewing machine running]', '(sewing machine)'], family: 'household', sustained: true },
  { id: 'gong', words: 'a gong', phrasings: ['(gong)', '[gong rings]', '(gong reverberating)'], parent: 'music', family: 'music' },
  { id: 'drum', words: 'drums', phrasings: ['(drumming)', '[drum roll]', '(drums)'], parent: 'music', family: 'music' },
  { id: 'cymbal', words: 'a cymbal', phrasings: ['(cymbal crash)', '[cymbals crash]', '(cymbal)'], parent: 'music', family: 'music' },
  { id: 'guitar', words: 'a guitar', phrasings: ['(guitar strumming)', '[guitar playing]', '(acoustic guitar)'], parent: 'music', family: 'music' },
  { id: 'piano', words: 'a piano', phrasings: ['(piano playing)', '[piano music]', '(piano)'], parent: 'music', family: 'music' },
  { id: 'trumpet', words: 'a trumpet', phrasings: ['(trumpet playing)', '[trumpet fanfare]', '(trumpet)'], parent: 'music', family: 'music' },
  { id: 'violin', words: 'a violin or strings', phrasings: ['(violin playing)', '[strings playing]', '(violin)'], parent: 'music', family: 'music' },
  { id: 'xylophone', words: 'a xylophone', phrasings: ['(xylophone playing)', '[xylophone]', '(marimba)'], parent: 'music', family: 'music' },
  { id: 'didgeridoo', words: 'a didgeridoo', phrasings: ['(didgeridoo droning)', '[didgeridoo]', '(didgeridoo playing)'], parent: 'music', family: 'music' },
  { id: 'finger_snap', words: 'fingers snapping', phrasings: ['(fingers snapping)', '[snaps fingers]', '(snapping)'], family: 'human' },
  { id: 'camera_shutter', words: 'a camera shutter', phrasings: ['(camera shutter clicks)', '[camera clicking]', '(shutter click)'], family: 'household' },
  { id: 'whoosh', words: 'a whoosh', phrasings: ['(whooshing)', '[whoosh]', '(swoosh)'], family: 'bang' },
];

/** Words (and stems) of the phrasings and class words that name no particular sound, or are common words in another sense ("can", "saw"). */
const GENERIC = new Set(
  'sound sounds playing running people indistinct open passes passing flying overhead falling blows upbeat electronic audience heavily approaching like being teeth hand drives talking walking police spin cycle can saw'.split(' '),
);

/** Class id -> label. */
export function soundLabel(id: string): SoundLabel | undefined {
  return SOUND_LABELS.find((l) => l.id === id);
}

/**
 * A crude English stem for matching sound words across forms: "barking", "barks", "barked" -> "bark";
 * "cries" -> "cry"; "clapping" -> "clap"; "sneeze", "sneezes" -> "sneez".
 */
export function soundStem(word: string): string {
  let w = word.toLowerCase();
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  for (const suffix of ['ing', 'ed', 'es', 's', 'e']) {
    if (w.length - suffix.length >= 3 && w.endsWith(suffix) && !(suffix === 's' && w.endsWith('ss'))) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  if (w.length >= 4 && w[w.length - 1] === w[w.length - 2] && !/[aeiouls]/.test(w[w.length - 1])) w = w.slice(0, -1);
  return w;
}

/**
 * Word stems that name a sound -> the classes whose words or phrasings use them. Speech classes,
 * generic words and words under 3 letters are left out.
 */
export function soundVocabulary(labels: readonly SoundLabel[] = SOUND_LABELS): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const l of labels) {
    if (l.speech === true) continue;
    for (const text of [l.words, ...l.phrasings]) {
      for (const w of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        const stem = soundStem(w);
        if (w.length < 3 || GENERIC.has(w) || GENERIC.has(stem) || ['and', 'the', 'like', 'with'].includes(w)) continue;
        if (!out.has(stem)) out.set(stem, new Set());
        out.get(stem)?.add(l.id);
      }
    }
  }
  return out;
}
