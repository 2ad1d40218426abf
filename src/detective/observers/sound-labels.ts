/**
 * The sound-event vocabulary: ESC-50's 50 classes and common AudioSet classes, each written the way
 * subtitles write sounds ("(dog barking)", "[dog barks]"), three phrasings per class. The sound-event
 * observer scores every phrasing against the audio with Whisper's decoder; the caption checks take
 * their sound nouns and verbs from the same phrasings.
 */

export interface SoundLabel {
  /** Stable class id (ESC-50 names where the class is one of ESC-50's). */
  id: string;
  /** What a caption says: "a sound like {words}". */
  words: string;
  /** Subtitle-style phrasings, scored with a leading space as Whisper writes a first token. */
  phrasings: readonly string[];
  /** A broader class that is also right when this one is (an instrument is music). */
  parent?: string;
  /** Speech: the recognizer's business, never stated as a sound event (it absorbs talking windows). */
  speech?: boolean;
}

export const SOUND_LABELS: readonly SoundLabel[] = [
  { id: 'dog', words: 'a dog barking', phrasings: ['(dog barking)', '[dog barks]', '(barking)'] },
  { id: 'rooster', words: 'a rooster crowing', phrasings: ['(rooster crowing)', '[rooster crows]', '(cock-a-doodle-doo)'] },
  { id: 'pig', words: 'a pig oinking', phrasings: ['(pig oinking)', '[pig grunts]', '(oinking)'] },
  { id: 'cow', words: 'a cow mooing', phrasings: ['(cow mooing)', '[cow moos]', '(mooing)'] },
  { id: 'frog', words: 'a frog croaking', phrasings: ['(frog croaking)', '[frogs croak]', '(croaking)'] },
  { id: 'cat', words: 'a cat meowing', phrasings: ['(cat meowing)', '[cat meows]', '(meowing)'] },
  { id: 'hen', words: 'a hen clucking', phrasings: ['(chicken clucking)', '[hen clucks]', '(clucking)'] },
  { id: 'insects', words: 'insects buzzing', phrasings: ['(insects buzzing)', '[bees buzzing]', '(buzzing)'] },
  { id: 'sheep', words: 'a sheep bleating', phrasings: ['(sheep bleating)', '[sheep bleats]', '(baaing)'] },
  { id: 'crow', words: 'a crow cawing', phrasings: ['(crow cawing)', '[crows caw]', '(cawing)'] },
  { id: 'rain', words: 'rain', phrasings: ['(rain falling)', '[rain pattering]', '(rain)'] },
  { id: 'sea_waves', words: 'sea waves', phrasings: ['(waves crashing)', '[ocean waves]', '(surf)'] },
  { id: 'crackling_fire', words: 'a crackling fire', phrasings: ['(fire crackling)', '[crackling fire]', '(crackling)'] },
  { id: 'crickets', words: 'crickets chirping', phrasings: ['(crickets chirping)', '[crickets chirp]', '(chirping)'] },
  { id: 'chirping_birds', words: 'birds chirping', phrasings: ['(birds chirping)', '[birds singing]', '(bird tweeting)'] },
  { id: 'water_drops', words: 'water dripping', phrasings: ['(water dripping)', '[dripping]', '(drip)'] },
  { id: 'wind', words: 'wind blowing', phrasings: ['(wind blowing)', '[wind howling]', '(wind)'] },
  { id: 'pouring_water', words: 'water pouring or running', phrasings: ['(water pouring)', '[water running]', '(faucet running)'] },
  { id: 'toilet_flush', words: 'a toilet flushing', phrasings: ['(toilet flushing)', '[toilet flushes]', '(flushing)'] },
  { id: 'thunderstorm', words: 'thunder', phrasings: ['(thunder rumbling)', '[thunder]', '(thunderclap)'] },
  { id: 'crying_baby', words: 'a baby crying', phrasings: ['(baby crying)', '[baby cries]', '(crying)'] },
  { id: 'sneezing', words: 'a sneeze', phrasings: ['(sneezing)', '[sneezes]', '(achoo)'] },
  { id: 'clapping', words: 'clapping', phrasings: ['(clapping)', '[claps]', '(hand clap)'] },
  { id: 'breathing', words: 'breathing', phrasings: ['(breathing heavily)', '[breathing]', '(panting)'] },
  { id: 'coughing', words: 'coughing', phrasings: ['(coughing)', '[coughs]', '(cough)'] },
  { id: 'footsteps', words: 'footsteps', phrasings: ['(footsteps)', '[footsteps approaching]', '(walking)'] },
  { id: 'laughing', words: 'laughter', phrasings: ['(laughing)', '[laughter]', '(chuckles)'] },
  { id: 'brushing_teeth', words: 'teeth being brushed', phrasings: ['(brushing teeth)', '[toothbrush scrubbing]', '(scrubbing)'] },
  { id: 'snoring', words: 'snoring', phrasings: ['(snoring)', '[snores]', '(snore)'] },
  { id: 'drinking_sipping', words: 'sipping or slurping', phrasings: ['(slurping)', '[sipping]', '(gulping)'] },
  { id: 'door_knock', words: 'knocking on a door', phrasings: ['(knocking on door)', '[knocking]', '(knock knock)'] },
  { id: 'mouse_click', words: 'a mouse click', phrasings: ['(mouse clicking)', '[click]', '(clicking)'] },
  { id: 'keyboard_typing', words: 'typing on a keyboard', phrasings: ['(typing on keyboard)', '[keyboard clacking]', '(typing)'] },
  { id: 'door_wood_creaks', words: 'a door creaking', phrasings: ['(door creaking)', '[door creaks]', '(creaking)'] },
  { id: 'door_slam', words: 'a door closing', phrasings: ['(door closes)', '[door slams]', '(door shuts)'] },
  { id: 'can_opening', words: 'a can opening', phrasings: ['(can opening)', '[can pops open]', '(fizzing)'] },
  { id: 'washing_machine', words: 'a washing machine', phrasings: ['(washing machine running)', '[washing machine whirring]', '(spin cycle)'] },
  { id: 'vacuum_cleaner', words: 'a vacuum cleaner', phrasings: ['(vacuum cleaner running)', '[vacuum whirring]', '(vacuuming)'] },
  { id: 'clock_alarm', words: 'an alarm ringing', phrasings: ['(alarm clock ringing)', '[alarm beeping]', '(alarm)'] },
  { id: 'clock_tick', words: 'a clock ticking', phrasings: ['(clock ticking)', '[ticking]', '(tick tock)'] },
  { id: 'glass_breaking', words: 'glass breaking', phrasings: ['(glass shattering)', '[glass breaks]', '(shattering)'] },
  { id: 'helicopter', words: 'a helicopter', phrasings: ['(helicopter whirring)', '[helicopter flying]', '(helicopter)'] },
  { id: 'chainsaw', words: 'a chainsaw', phrasings: ['(chainsaw buzzing)', '[chainsaw revving]', '(chainsaw)'] },
  { id: 'siren', words: 'a siren', phrasings: ['(siren wailing)', '[sirens]', '(police siren)'] },
  { id: 'car_horn', words: 'a car horn', phrasings: ['(car horn honking)', '[horn honks]', '(honking)'] },
  { id: 'engine', words: 'an engine running', phrasings: ['(engine running)', '[engine revving]', '(motor humming)'] },
  { id: 'train', words: 'a train', phrasings: ['(train passing)', '[train horn]', '(train rumbling)'] },
  { id: 'church_bells', words: 'church bells', phrasings: ['(church bells ringing)', '[bell tolling]', '(bells chiming)'] },
  { id: 'airplane', words: 'an airplane', phrasings: ['(airplane flying overhead)', '[jet engine roaring]', '(plane)'] },
  { id: 'fireworks', words: 'fireworks', phrasings: ['(fireworks exploding)', '[fireworks popping]', '(fireworks)'] },
  { id: 'hand_saw', words: 'sawing', phrasings: ['(sawing)', '[saw rasping]', '(hand saw)'] },
  { id: 'speech', words: 'speech', phrasings: ['(man speaking)', '[woman speaking]', '(talking)'], speech: true },
  { id: 'music', words: 'music', phrasings: ['(music)', '[music playing]', '(upbeat music)'] },
  { id: 'singing', words: 'singing', phrasings: ['(singing)', '[vocalizing]', '(humming)'] },
  { id: 'applause', words: 'applause', phrasings: ['(applause)', '[audience applauding]', '(clapping and cheering)'] },
  { id: 'cheering', words: 'cheering', phrasings: ['(cheering)', '[crowd cheers]', '(whooping)'] },
  { id: 'crowd', words: 'a crowd of people talking', phrasings: ['(crowd chattering)', '[indistinct chatter]', '(people talking)'] },
  { id: 'screaming', words: 'screaming', phrasings: ['(screaming)', '[screams]', '(shrieking)'] },
  { id: 'whistling', words: 'whistling', phrasings: ['(whistling)', '[whistles]', '(whistle blows)'] },
  { id: 'telephone_ringing', words: 'a telephone ringing', phrasings: ['(phone ringing)', '[telephone rings]', '(ringtone)'] },
  { id: 'doorbell', words: 'a doorbell', phrasings: ['(doorbell ringing)', '[doorbell rings]', '(ding dong)'] },
  { id: 'bell', words: 'a bell ringing', phrasings: ['(bell ringing)', '[bell dings]', '(ding)'] },
  { id: 'beep', words: 'beeping', phrasings: ['(beeping)', '[beeps]', '(electronic beep)'] },
  { id: 'gunshot', words: 'a gunshot', phrasings: ['(gunshot)', '[gunfire]', '(gun fires)'] },
  { id: 'explosion', words: 'an explosion', phrasings: ['(explosion)', '[explosion booms]', '(boom)'] },
  { id: 'horse', words: 'a horse neighing or galloping', phrasings: ['(horse neighing)', '[horse whinnies]', '(hooves clopping)'] },
  { id: 'duck', words: 'a duck quacking', phrasings: ['(duck quacking)', '[ducks quack]', '(quacking)'] },
  { id: 'goose', words: 'a goose honking', phrasings: ['(goose honking)', '[geese honking]', '(geese)'] },
  { id: 'owl', words: 'an owl hooting', phrasings: ['(owl hooting)', '[owl hoots]', '(hooting)'] },
  { id: 'howl', words: 'howling, like a wolf', phrasings: ['(wolf howling)', '[howling]', '(dog howling)'] },
  { id: 'bubbling', words: 'bubbling', phrasings: ['(bubbling)', '[water bubbling]', '(gurgling)'] },
  { id: 'splash', words: 'a splash', phrasings: ['(splashing)', '[splash]', '(water splashing)'] },
  { id: 'car', words: 'a car passing', phrasings: ['(car passing by)', '[car drives by]', '(car engine)'] },
  { id: 'motorcycle', words: 'a motorcycle', phrasings: ['(motorcycle revving)', '[motorcycle passes]', '(motorbike)'] },
  { id: 'sewing_machine', words: 'a sewing machine', phrasings: ['(sewing machine whirring)', '[sewing machine running]', '(sewing machine)'] },
  { id: 'gong', words: 'a gong', phrasings: ['(gong)', '[gong rings]', '(gong reverberating)'], parent: 'music' },
  { id: 'drum', words: 'drums', phrasings: ['(drumming)', '[drum roll]', '(drums)'], parent: 'music' },
  { id: 'cymbal', words: 'a cymbal', phrasings: ['(cymbal crash)', '[cymbals crash]', '(cymbal)'], parent: 'music' },
  { id: 'guitar', words: 'a guitar', phrasings: ['(guitar strumming)', '[guitar playing]', '(acoustic guitar)'], parent: 'music' },
  { id: 'piano', words: 'a piano', phrasings: ['(piano playing)', '[piano music]', '(piano)'], parent: 'music' },
  { id: 'trumpet', words: 'a trumpet', phrasings: ['(trumpet playing)', '[trumpet fanfare]', '(trumpet)'], parent: 'music' },
  { id: 'violin', words: 'a violin or strings', phrasings: ['(violin playing)', '[strings playing]', '(violin)'], parent: 'music' },
  { id: 'xylophone', words: 'a xylophone', phrasings: ['(xylophone playing)', '[xylophone]', '(marimba)'], parent: 'music' },
  { id: 'didgeridoo', words: 'a didgeridoo', phrasings: ['(didgeridoo droning)', '[didgeridoo]', '(didgeridoo playing)'], parent: 'music' },
  { id: 'finger_snap', words: 'fingers snapping', phrasings: ['(fingers snapping)', '[snaps fingers]', '(snapping)'] },
  { id: 'camera_shutter', words: 'a camera shutter', phrasings: ['(camera shutter clicks)', '[camera clicking]', '(shutter click)'] },
  { id: 'whoosh', words: 'a whoosh', phrasings: ['(whooshing)', '[whoosh]', '(swoosh)'] },
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
