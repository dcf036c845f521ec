/**
 * Every string the components show, in one flat object. Apps replace any of them through
 * `<KlingAudioProvider messages>` or a component's own `messages` prop. Values are strings, or small
 * functions where a value has to be put in. No React, server-safe.
 */
import { getUserMessage } from './errors';
import type { AudioTaskStatus } from './schemas';

const seconds = (value: number, locale?: string) =>
  new Intl.NumberFormat(locale, { maximumFractionDigits: 1 }).format(value);

/** Why a clip cannot play: `expired` and `not-found` are dead links (HTTP 403/410 and 404). */
export type AudioPlayerErrorKind = 'expired' | 'not-found' | 'network' | 'decode' | 'unsupported';

// m:ss, with the locale's digits.
const clock = (value: number, locale?: string) => {
  const whole = Math.floor(value);
  return `${new Intl.NumberFormat(locale).format(Math.floor(whole / 60))}:${new Intl.NumberFormat(locale, { minimumIntegerDigits: 2 }).format(whole % 60)}`;
};

export const defaultMessages = {
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

  // -- SoundPromptForm ----------------------------------------------------------------------------
  formPromptLabel: 'Describe the sound',
  formPromptPlaceholder: 'Fireworks crackling over a harbour at night',
  /** The live counter beside the prompt. */
  formPromptCounter: (length: number, max: number): string => `${length}/${max}`,
  /** The counter as read by screen readers. */
  formPromptCounterLabel: (length: number, max: number): string => `${length} of ${max} characters`,
  formDurationLabel: 'Duration (seconds)',
  formDurationSliderLabel: 'Duration',
  formPresetsLabel: 'Examples',
  formSubmit: 'Generate sound',
  formSubmitting: 'Sending…',
  formShortcutHint: 'Press Ctrl+Enter to generate',

  // -- AudioTaskList ------------------------------------------------------------------------------
  listLabel: 'Generated sounds',
  listEmpty: 'No sounds yet. Generated sounds appear here.',
  listLoading: 'Loading sounds…',
  listPrevious: 'Previous',
  listNext: 'Next',
  listPage: (pageNum: number): string => `Page ${pageNum}`,
  listPageSize: 'Per page',
  listSelect: 'Open',
  listCreatedAt: (createdAt: number, locale?: string): string =>
    new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(createdAt),

  // -- TextToAudioStudio --------------------------------------------------------------------------
  studioLabel: 'Text to audio',
  studioCurrentLabel: 'Current sound',
  studioHistoryLabel: 'History',
  studioIdle: 'Your sound will appear here.',

  // -- AudioResultPlayer (owned by the player) -----------------------------------------------------
  playerPlay: 'Play',
  playerPause: 'Pause',
  playerMute: 'Mute',
  playerSeek: 'Seek',
  /** The seek slider's `aria-valuetext`, e.g. "3.2 of 10 seconds". */
  playerTimeText: (current: number, total: number, locale?: string): string =>
    `${seconds(current, locale)} of ${seconds(total, locale)} seconds`,
  /** The visible time, e.g. "0:03 / 0:10". */
  playerTime: (current: number, total: number, locale?: string): string =>
    `${clock(current, locale)} / ${clock(total, locale)}`,
  playerFormat: 'Format',
  playerDownload: (format: string): string => `Download ${format.toUpperCase()}`,
  playerLoading: 'Loading…',
  /** While the result links are alive (they expire `RESULT_RETENTION_DAYS` after creation). */
  playerExpiresIn: (days: number, locale?: string): string =>
    `Link expires in ${new Intl.NumberFormat(locale).format(days)} ${days === 1 ? 'day' : 'days'}. Download to keep it.`,
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

export type KlingAudioMessages = typeof defaultMessages;
