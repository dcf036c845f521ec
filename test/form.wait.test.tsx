import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { SoundPromptForm } from '../src';
import { renderWithProvider, useMockBackend } from './render';

const submitButton = () => screen.getByRole('button', { name: /Generate sound|Sending/ });

describe('SoundPromptForm with a busy service', () => {
  it('shows how long it waits before trying again, and Cancel gets the form back', async () => {
    const backend = useMockBackend({ scenario: { createError: { code: 1303, retryAfterSeconds: 30 } } });
    renderWithProvider(<SoundPromptForm defaultPrompt="Rain" />);
    const user = userEvent.setup();
    await user.click(submitButton());
    await waitFor(() =>
      expect(screen.getByText(/The service is busy\. Trying again in (30|29) s…/)).toBeInTheDocument(),
    );
    expect(submitButton()).toHaveTextContent('Sending…');
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(submitButton()).toHaveTextContent('Generate sound'));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
    expect(submitButton().closest('form')).toHaveAttribute('data-state', 'idle');
    expect(backend.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a Retry-After longer than the cap says so at once instead of holding the form', async () => {
    useMockBackend({ scenario: { createError: { code: 1303, retryAfterSeconds: 600 } } });
    renderWithProvider(<SoundPromptForm defaultPrompt="Rain" />);
    await userEvent.setup().click(submitButton());
    expect(await screen.findByRole('alert')).toBeInTheDocument();
    expect(submitButton()).toHaveTextContent('Generate sound');
  });
});
