// Attributes HTML allows that @kitajs/html's element types do not list yet.
declare namespace JSX {
  interface HtmlMetaTag {
    /** theme-color per colour scheme. */
    media?: undefined | string;
  }
}
