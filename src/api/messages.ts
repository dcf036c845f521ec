/**
 * Every string the components show, in one flat object. Apps replace any of them through
 * `<KlingAudioProvider messages>` or a component's own `messages` prop. Values are strings, or small
 * functions where a value has to be put in. No React, server-safe.
 */
import { getUserMessage } from './errors';
import type { AudioTaskStatus } from './schemas';

const seconds = (value: number, locale?: string) =>
  new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value);
const count = (value: number, locale?: string) => new Intl.NumberFormat(locale).format(value);
// One formatter per locale: a history page formats up to 500 dates, and building a DateTimeFormat is the
// expensive part.
const dateTimeFormats = new Map<string | undefined, Intl.DateTimeFormat>();
const dateTime = (locale?: string) => {
  let format = dateTimeFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
    dateTimeFormats.set(locale, format);
  }
  return format;
};

/** An example shown by `<SoundPromptForm>`: a button that fills the prompt and the duration. */
export interface SoundPromptPreset {
  /** The button's text. */
  label: string;
  prompt: string;
  /** Seconds, 3.0–10.0. */
  duration: number;
}

/** Why a clip cannot play: `expired` and `not-found` are dead links (HTTP 403/410 and 404). */
export type AudioPlayerErrorKind = 'expired' | 'not-found' | 'network' | 'decode' | 'unsupported';

// m:ss, or m:ss.t with `tenths`, in the locale's digits; cut down (a clock never runs ahead), never rounded up.
const clock = (value: number, locale?: string, tenths?: boolean) => {
  const digits = tenths ? 1 : 0;
  const cut = Math.floor(value * 10 ** digits + 1e-6) / 10 ** digits;
  const minutes = Math.floor(cut / 60);
  return `${new Intl.NumberFormat(locale).format(minutes)}:${new Intl.NumberFormat(locale, { minimumIntegerDigits: 2, minimumFractionDigits: digits, maximumFractionDigits: digits }).format(cut - minutes * 60)}`;
};

/** Strings more than one component uses. */
export const sharedMessages = {
  // -- shared -------------------------------------------------------------------------------------
  /** A task's status, as a badge or an announcement. */
  status: (status: AudioTaskStatus): string =>
    ({ submitted: 'Queued', processing: 'Generating', succeed: 'Ready', failed: 'Failed' })[status],
  /** Time since the task was created, while it is pending. */
  elapsed: (secondsElapsed: number, locale?: string): string =>
    `${seconds(secondsElapsed, locale)} s elapsed`,
  /** Plain words for any error; the default reads the vendor's error table. */
  errorText: (error: unknown): string => getUserMessage(error),
  retry: 'Try again',
  /** A duration in seconds, e.g. "5.5 s". */
  duration: (value: number, locale?: string): string => `${seconds(value, locale)} s`,
  /** Used when the prompt of a task is unknown (made elsewhere). */
  untitledTask: (taskId: string): string => `Task ${taskId}`,
  failedReasonUnknown: 'The audio service did not say why.',
};

/** The strings of `<SoundPromptForm>`. */
export const formMessages = {
  // -- SoundPromptForm ----------------------------------------------------------------------------
  formPromptLabel: 'Describe the sound',
  formPromptPlaceholder: 'Fireworks crackling over a harbour at night',
  /** The visible counter beside the prompt, e.g. "42/200" (hidden from screen readers: see the next two). */
  formPromptCounter: (length: number, max: number, locale?: string): string =>
    `${count(length, locale)}/${count(max, locale)}`,
  /** The counter as screen readers hear it when they reach the prompt (its description). */
  formPromptCounterLabel: (length: number, max: number, locale?: string): string =>
    `${count(length, locale)} of ${count(max, locale)} characters`,
  /** Announced (politely) only when exactly 20, 10 or 0 characters are left. */
  formPromptCharactersLeft: (left: number, locale?: string): string =>
    left === 0 ? 'No characters left' : `${count(left, locale)} characters left`,
  /** Announced once when the prompt goes over the limit. */
  formPromptOverLimit: (max: number, locale?: string): string =>
    `Too long: the limit is ${count(max, locale)} characters`,
  /** Validation, in the shared schema's terms (`createAudioTaskInputSchema`). */
  formPromptEmpty: 'Describe the sound you want.',
  formPromptTooLong: (max: number, locale?: string): string =>
    `Keep the prompt to ${count(max, locale)} characters or fewer.`,
  formDurationLabel: 'Duration (seconds)',
  formDurationSliderLabel: 'Duration',
  /** Under the duration controls, e.g. "3 to 10 seconds, in steps of 0.1". */
  formDurationHint: (min: number, max: number, step: number, locale?: string): string =>
    `${seconds(min, locale)} to ${seconds(max, locale)} seconds, in steps of ${seconds(step, locale)}`,
  /** The slider's `aria-valuetext`, e.g. "5.5 seconds". */
  formDurationValueText: (value: number, locale?: string): string => `${seconds(value, locale)} seconds`,
  formDurationNotNumber: 'Enter the duration as a number of seconds.',
  formDurationTooShort: (min: number, locale?: string): string =>
    `Duration must be at least ${seconds(min, locale)} seconds.`,
  formDurationTooLong: (max: number, locale?: string): string =>
    `Duration must be at most ${seconds(max, locale)} seconds.`,
  formDurationPrecision: 'Use at most one decimal place, e.g. 5.5.',
  formPresetsLabel: 'Examples',
  /** Example prompts shown as buttons; each fills the prompt and the duration. */
  formPresets: [
    { label: 'Fireworks', prompt: 'Fireworks crackling over a harbour at night', duration: 6 },
    { label: 'Rain', prompt: 'Heavy rain on a tin roof with distant thunder', duration: 8 },
    { label: 'Door bell', prompt: 'A small brass bell rung twice', duration: 3 },
    { label: 'Footsteps', prompt: 'Footsteps on a creaky wooden floor', duration: 5 },
  ] as readonly SoundPromptPreset[],
  /** The accessible description of a preset button. */
  formPresetDescription: (preset: SoundPromptPreset, locale?: string): string =>
    `${preset.prompt}, ${seconds(preset.duration, locale)} seconds`,
  formSubmit: 'Generate sound',
  formSubmitting: 'Sending…',
  /** While a busy service makes the form wait before it tries again. */
  formRetryWait: (secondsLeft: number, locale?: string): string =>
    `The service is busy. Trying again in ${seconds(secondsLeft, locale)} s…`,
  formCancel: 'Cancel',
  /** Under the prompt; `mac` is true on Apple platforms, where the key is ⌘. */
  formShortcutHint: (mac: boolean): string => `Press ${mac ? '⌘' : 'Ctrl'}+Enter to generate`,
};

/** The strings of `<AudioTaskList>` (its players add `playerMessages`). */
export const listMessages = {
  // -- AudioTaskList ------------------------------------------------------------------------------
  listLabel: 'Generated sounds',
  listEmpty: 'No sounds yet. Generated sounds appear here.',
  listLoading: 'Loading sounds…',
  /** Above the error's own words when a page cannot be loaded. */
  listError: 'The history could not be loaded.',
  /** The accessible name of the pagination controls. */
  listPagination: 'Pages',
  listPrevious: 'Previous page',
  listNext: 'Next page',
  listPage: (pageNum: number, locale?: string): string => `Page ${count(pageNum, locale)}`,
  listPageSize: 'Per page',
  /** When the row was created, e.g. "12 Mar 2026, 14:05". */
  listCreatedAt: (createdAt: number, locale?: string): string => dateTime(locale).format(createdAt),
};

/** The strings of `<TextToAudioStudio>` itself (its form, player and history add their own). */
export const studioMessages = {
  // -- TextToAudioStudio --------------------------------------------------------------------------
  studioLabel: 'Text to audio',
  studioCurrentLabel: 'Current sound',
  studioHistoryLabel: 'History',
  studioIdle: 'Describe a sound and generate it: it will appear here.',
  /** Announced once each time the current task's status changes. */
  studioAnnouncement: (status: AudioTaskStatus, title: string, reason?: string): string =>
    ({
      submitted: `Queued: ${title}`,
      processing: `Generating: ${title}`,
      succeed: `Ready to play: ${title}`,
      failed: `Failed: ${title}. ${reason ?? ''}`.trim(),
    })[status],
};

/** The strings of `<AudioResultPlayer>` and `useAudioPlayer()`. */
export const playerMessages = {
  // -- AudioResultPlayer (owned by the player) -----------------------------------------------------
  playerPlay: 'Play',
  playerPause: 'Pause',
  playerMute: 'Mute',
  /** The loop toggle (and its `L` key): the clip repeats without a gap while pressed. */
  playerLoop: 'Loop',
  /** The selected part of the clip (drag on the waveform, or Shift+arrows) and its two thumbs. */
  playerSelection: 'Selection',
  playerSelectionStart: 'Selection start',
  playerSelectionEnd: 'Selection end',
  /** Announced (politely) as the selection changes, e.g. "Selected 2 to 3.5 seconds". */
  playerSelected: (start: number, end: number, locale?: string): string =>
    `Selected ${seconds(start, locale)} to ${seconds(end, locale)} seconds`,
  /** Saves the selection as a WAV file. */
  playerExportSelection: 'Download selection (WAV)',
  playerSeek: 'Seek',
  /** The seek slider's `aria-valuetext`, e.g. "3.2 of 10 seconds". */
  playerTimeText: (current: number, total: number, locale?: string): string =>
    `${seconds(current, locale)} of ${seconds(total, locale)} seconds`,
  /** The visible time, in tenths for clips under a minute: "0:03.2 / 0:04.5" (else "1:03 / 2:10"). */
  playerTime: (current: number, total: number, locale?: string): string =>
    `${clock(current, locale, total < 60)} / ${clock(Math.round(total * 10) / 10, locale, total < 60)}`,
  playerFormat: 'Format',
  playerDownload: (format: string): string => `Download ${format.toUpperCase()}`,
  playerLoading: 'Loading…',
  /**
   * While the result links are alive (they expire `RESULT_RETENTION_DAYS` after creation), for audio the
   * proxy has not kept a copy of; `expiresAt` is when the link dies (ms since the epoch).
   */
  playerExpiresIn: (days: number, locale?: string, expiresAt?: number): string =>
    `Link expires in ${count(days, locale)} ${days === 1 ? 'day' : 'days'}${expiresAt === undefined ? '' : ` (${dateTime(locale).format(expiresAt)})`}. Download to keep it.`,
  /** Why the clip cannot play. */
  playerError: (kind: AudioPlayerErrorKind): string =>
    ({
      expired: 'This link has expired: results are deleted 30 days after they are made.',
      'not-found': 'This audio file no longer exists.',
      network: 'The audio could not be loaded. Check the connection and try again.',
      decode: 'The audio file is damaged and cannot be played.',
      unsupported: 'This browser cannot play this audio format.',
    })[kind],
};

// One pure call, not spreads, so bundlers can drop it: an app that renders only the player ships
// `sharedMessages` and `playerMessages`, not every component's strings (and likewise for each component).
export const defaultMessages = /* @__PURE__ */ Object.assign(
  {},
  sharedMessages,
  formMessages,
  listMessages,
  studioMessages,
  playerMessages,
  // Object.assign is typed for at most three sources; past that it would give `any`.
) as typeof sharedMessages &
  typeof formMessages &
  typeof listMessages &
  typeof studioMessages &
  typeof playerMessages;

export type KlingAudioMessages = typeof defaultMessages;
