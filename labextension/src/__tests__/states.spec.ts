import {
  allowsEditing,
  closeOutcome,
  isFinal,
  liveState,
  stateLabel
} from '../states';

describe('connection states', () => {
  it('reconnects and re-reads the role on 4403', () => {
    expect(closeOutcome(4403)).toEqual({
      state: 'access-changed',
      reconnect: true,
      refreshRole: true
    });
  });

  it('stops on deleted, not found and not authenticated', () => {
    expect(closeOutcome(4410)).toMatchObject({
      state: 'deleted',
      reconnect: false
    });
    expect(closeOutcome(4404)).toMatchObject({
      state: 'not-found',
      reconnect: false
    });
    expect(closeOutcome(4401)).toMatchObject({
      state: 'unauthenticated',
      reconnect: false
    });
  });

  it('keeps reconnecting on anything else', () => {
    for (const code of [1000, 1001, 1006, 4413, 4429, 4500, undefined]) {
      expect(closeOutcome(code)).toMatchObject({
        state: 'reconnecting',
        reconnect: true
      });
    }
  });

  it('says what a live connection allows', () => {
    expect(liveState(true)).toBe('connected');
    expect(liveState(false)).toBe('read-only');
    expect(allowsEditing('connected')).toBe(true);
    expect(allowsEditing('read-only')).toBe(false);
    expect(allowsEditing('deleted')).toBe(false);
    expect(isFinal('deleted')).toBe(true);
    expect(isFinal('reconnecting')).toBe(false);
    expect(stateLabel('access-changed')).toMatch(/access changed/i);
  });
});
