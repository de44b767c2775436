import { createContext, useContext } from "react";
import type { Language } from "../bindings/Language";
import type { StatusKind } from "../bindings/StatusKind";
import { en, statusEn, type Messages } from "./en";
import { fr, statusFr } from "./fr";
import { settingsEn, type SettingsMessages } from "./settings.en";
import { settingsFr } from "./settings.fr";
import { firstRunEn, type FirstRunMessages } from "./firstrun.en";
import { firstRunFr } from "./firstrun.fr";

export type T = Messages & SettingsMessages & FirstRunMessages;

export interface I18n {
  lang: Language;
  t: T;
  status: (kind: StatusKind) => string;
}

const EN: I18n = { lang: "en", t: { ...en, ...settingsEn, ...firstRunEn }, status: (k) => statusEn[k] };
const FR: I18n = { lang: "fr", t: { ...fr, ...settingsFr, ...firstRunFr }, status: (k) => statusFr[k] };

export function i18nFor(lang: Language): I18n {
  return lang === "fr" ? FR : EN;
}

export const I18nContext = createContext<I18n>(EN);

export function useI18n(): I18n {
  return useContext(I18nContext);
}
