/**
 * Prompts that travel: the history shows what was asked even in a browser that never asked it (another
 * device, cleared storage), because the proxy's records answer it. No browser memory here: `storage: null`.
 */
import { screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioTaskList, TextToAudioStudio } from '../src';
import { createMemoryTaskStore } from '../src/server';
import { keepPlayersOffscreen, renderWithProvider } from './render';
import { createWorld } from './records.harness';

beforeEach(keepPlayersOffscreen);
// The components render real players: give a busy machine room.
vi.setConfig({ testTimeout: 20_000 });

async function madeOnAnotherDevice() {
  const world = createWorld(createMemoryTaskStore());
  const phone = world.as('alice');
  await phone.createTask({ prompt: 'Rain on a tin roof', duration: 4 });
  await phone.createTask({ prompt: 'Cat purring softly', duration: 6.5 });
  await world.as('bob').createTask({ prompt: 'Bob’s secret sound', duration: 3 });
  return world;
}

describe('server prompts in the components', () => {
  it('<AudioTaskList> shows the prompts of the user’s own tasks, and none of another user’s', async () => {
    const world = await madeOnAnotherDevice();
    renderWithProvider(<AudioTaskList />, { client: world.as('alice'), storage: null });
    const list = screen.getByRole('region', { name: 'Generated sounds' });
    expect(await within(list).findByText('Rain on a tin roof')).toBeVisible();
    expect(within(list).getByText('Cat purring softly')).toBeVisible();
    expect(list.querySelectorAll('[role="row"][data-task-id]')).toHaveLength(2);
    expect(screen.queryByText('Bob’s secret sound')).toBeNull();
    expect(screen.queryByText(/^Task \d+/)).toBeNull();
  });

  it('the studio’s history shows them too', async () => {
    const world = await madeOnAnotherDevice();
    renderWithProvider(<TextToAudioStudio />, { client: world.as('alice'), storage: null });
    const history = screen.getByRole('region', { name: 'History' });
    expect(await within(history).findByRole('button', { name: 'Rain on a tin roof' })).toBeVisible();
    expect(within(history).getByRole('button', { name: 'Cat purring softly' })).toBeVisible();
    expect(screen.queryByText('Bob’s secret sound')).toBeNull();
  });
});
