/**
 * Theme and desktop-notification preferences. The theme follows `prefers-color-scheme` until
 * the operator picks one; the choice is persisted in localStorage.
 */
import { defineStore } from 'pinia';
import { computed, onScopeDispose, ref, watchEffect } from 'vue';
import { readStorage, writeStorage } from '../lib/storage';

export type ThemeChoice = 'system' | 'light' | 'dark';
export type Theme = 'light' | 'dark';

/** localStorage keys. */
export const THEME_KEY = 'descartes.theme';
export const NOTIFY_KEY = 'descartes.desktopNotifications';

const isThemeChoice = (value: string | null): value is ThemeChoice =>
  value === 'system' || value === 'light' || value === 'dark';

export type PermissionState = NotificationPermission | 'unsupported';

export const useSettingsStore = defineStore('settings', () => {
  const stored = readStorage(THEME_KEY);
  const choice = ref<ThemeChoice>(isThemeChoice(stored) ? stored : 'system');

  const media = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const systemDark = ref(media?.matches ?? true);
  const onMedia = (event: MediaQueryListEvent): void => {
    systemDark.value = event.matches;
  };
  media?.addEventListener('change', onMedia);
  onScopeDispose(() => media?.removeEventListener('change', onMedia));

  const theme = computed<Theme>(() =>
    choice.value === 'system' ? (systemDark.value ? 'dark' : 'light') : choice.value,
  );

  watchEffect(() => {
    document.documentElement.dataset.theme = theme.value;
    document.documentElement.style.colorScheme = theme.value;
  });

  /** Picks a theme and remembers it ('system' follows the OS again). */
  function setTheme(next: ThemeChoice): void {
    choice.value = next;
    writeStorage(THEME_KEY, next);
  }

  /** Switches to the opposite of what is shown now, and remembers it. */
  function toggleTheme(): void {
    setTheme(theme.value === 'dark' ? 'light' : 'dark');
  }

  const notificationsSupported = typeof Notification === 'function';
  const permission = ref<PermissionState>(notificationsSupported ? Notification.permission : 'unsupported');
  const desktopNotifications = ref(readStorage(NOTIFY_KEY) !== 'off');

  /**
   * Asks for desktop-notification permission. Browsers only allow this from a user gesture,
   * so call it from a click handler. Resolves with the resulting permission.
   */
  async function requestNotifications(): Promise<PermissionState> {
    if (!notificationsSupported) return 'unsupported';
    permission.value = await Notification.requestPermission();
    if (permission.value === 'granted') setDesktopNotifications(true);
    return permission.value;
  }

  function setDesktopNotifications(on: boolean): void {
    desktopNotifications.value = on;
    writeStorage(NOTIFY_KEY, on ? 'on' : 'off');
  }

  /** True when failures should pop up as desktop notifications. */
  const canNotify = computed(() => permission.value === 'granted' && desktopNotifications.value);

  return {
    choice,
    theme,
    systemDark,
    setTheme,
    toggleTheme,
    permission,
    desktopNotifications,
    canNotify,
    requestNotifications,
    setDesktopNotifications,
  };
});
