import { useEffect, useRef, useState, type CanvasHTMLAttributes } from 'react';

export interface WaveformProps extends CanvasHTMLAttributes<HTMLCanvasElement> {
  /** Normalised peaks (0–1), e.g. `useAudioPlayer().peaks`. */
  peaks: readonly number[];
  /** How much has played, 0–1: those bars take the played colour. */
  progress: number;
}

/**
 * The waveform as a picture: bars drawn on a canvas at the device's pixel ratio. Purely presentational
 * (`aria-hidden`): the seek slider around it is the control. Colours come from CSS, resolved by the
 * browser: the played bars use `color`, the others `border-color` (see `--rka-player-wave-*`).
 */
export function Waveform({ peaks, progress, ...props }: WaveformProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState(0);

  // Redraw when the box changes size (or the page zoom changes the pixel ratio), where the browser can say.
  useEffect(() => {
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => setSize(entry!.contentRect.width * devicePixelRatio));
    observer.observe(ref.current!);
    return () => observer.disconnect();
  }, []);

  // On a change of peaks, progress or size; colours are read then, so a theme switch shows on the next
  // change (playing redraws several times a second).
  useEffect(() => {
    const canvas = ref.current!;
    const context = canvas.getContext('2d');
    if (!context) return;
    const ratio = devicePixelRatio || 1;
    const width = (canvas.width = Math.round(canvas.clientWidth * ratio));
    const height = (canvas.height = Math.round(canvas.clientHeight * ratio));
    const style = getComputedStyle(canvas);
    // At least 3 CSS pixels per bar: on a narrow screen neighbouring peaks merge (the louder wins).
    const count = Math.max(1, Math.min(peaks.length, Math.floor(canvas.clientWidth / 3)));
    const pitch = width / count;
    // Whole device pixels, a gap of a third of the pitch: crisp edges at any ratio.
    const bar = Math.max(1, Math.round(pitch * 0.66));
    for (let index = 0; index < count; index++) {
      const peak = Math.max(
        ...peaks.slice(
          Math.floor((index * peaks.length) / count),
          Math.floor(((index + 1) * peaks.length) / count),
        ),
      );
      const barHeight = Math.max(ratio * 2, Math.round(peak * height));
      context.fillStyle = index < progress * count ? style.color : style.borderTopColor;
      context.fillRect(Math.round(index * pitch), Math.round((height - barHeight) / 2), bar, barHeight);
    }
  }, [peaks, progress, size]);

  return <canvas ref={ref} aria-hidden {...props} />;
}
